"""Request bodies decoded strictly, for the whole app (`Litestar(request_class=StrictRequest)`).

Litestar decodes a JSON body to Python objects and then converts them with msgspec's strict=False, which
takes "5" for an int and "true" for a bool; and msgspec's RecursionError on a deeply nested body escaped as
a 500. Here the body is decoded once, straight into the handler's `data` type with strict=True, and what
the type alone cannot say is checked on the decoded value (backend.core.text): no control or bidi
characters in any string, 64-bit integers, times with a zone and in range, bounded nesting where the
schema takes free-form JSON. Every refusal is a 400 problem naming the field (`body` when the body as a
whole is unreadable).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.serialization import default_deserializer
from litestar.types import Empty

from backend.core.text import day_problem, instant_problem, int_problem, text_problem

MAX_DEPTH = 32  # nesting inside free-form JSON (a GeoJSON MultiPolygon needs 6)
Check = Callable[[Any, str], None]


class StrictRequest(Request):
    async def json(self) -> Any:
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                body = await self.body()
                self._json = self._connection_state.json = decode_body(body or b"null", _data_type(self))
        return self._json


async def refuse_hostile_query(request: Request) -> None:
    """App-wide `before_request`: query values stay lenient about types (they are strings by nature), but
    no control or bidi character reaches a service or a database (PostgreSQL refuses NUL in text)."""
    for key, value in request.query_params.multi_items():
        if (problem := text_problem(key) or text_problem(value)) is not None:
            raise ValidationException(
                detail=f"{key}: {problem}", extra=[{"message": problem, "key": key, "source": "query"}]
            )


def decode_body(body: bytes, target: Any = Any) -> Any:
    """`body` as `target` (a Struct, or plain JSON for Any), or a ValidationException naming the field."""
    try:
        value = msgspec.json.decode(
            body, type=target, strict=True, dec_hook=partial(default_deserializer, type_decoders=None)
        )
    except RecursionError:
        raise _refused("body", "is nested too deeply") from None
    except msgspec.ValidationError as exc:
        raise ValidationException(detail=str(exc), extra=[{"message": str(exc), "source": "body"}]) from None
    except msgspec.DecodeError as exc:
        raise _refused("body", f"is not valid JSON ({exc})") from None
    if (check := checker_for(target)) is not None:
        check(value, "")
    return value


def _refused(field: str, message: str) -> ValidationException:
    return ValidationException(
        detail=f"{field}: {message}", extra=[{"message": message, "key": field, "source": "body"}]
    )


_data_types: dict[int, Any] = {}


def _data_type(request: Request) -> Any:
    handler = request.route_handler
    if (known := _data_types.get(id(handler))) is None:
        field = handler.parsed_fn_signature.parameters.get("data")
        known = _data_types[id(handler)] = field.annotation if field is not None else Any
    return known


# Checks compiled per type: only the paths that hold strings, ints, times or free-form JSON are visited,
# so a batch of 2,000 fixes costs one attribute read per fix and field checked.

_checkers: dict[Any, Check | None] = {}


def checker_for(target: Any) -> Check | None:
    if target not in _checkers:
        _checkers[target] = _compile(msgspec.inspect.type_info(target), {})
    return _checkers[target]


def _compile(t: msgspec.inspect.Type, structs: dict[type, list]) -> Check | None:  # noqa: C901 - a dispatch
    mi = msgspec.inspect
    if isinstance(t, mi.StrType):
        return _text
    if isinstance(t, mi.IntType):
        lower, upper = (t.ge, t.gt) != (None, None), (t.le, t.lt) != (None, None)
        return None if lower and upper else _int  # a schema's own bounds lie within 64 bits
    if isinstance(t, mi.FloatType):
        lower, upper = (t.ge, t.gt) != (None, None), (t.le, t.lt) != (None, None)
        return None if lower and upper else _float  # 1e400 decodes as infinity
    if isinstance(t, mi.DateTimeType):
        return _instant
    if isinstance(t, mi.DateType):
        return _day
    if isinstance(t, mi.AnyType):
        return _any
    if isinstance(t, mi.StructType):
        return _struct(t, structs)
    if isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        item = _compile(t.item_type, structs)
        return None if item is None else partial(_items, item)
    if isinstance(t, mi.TupleType):
        items = [_compile(x, structs) for x in t.item_types]
        return None if not any(items) else partial(_tuple, items)
    if isinstance(t, mi.DictType):
        key, value = _compile(t.key_type, structs), _compile(t.value_type, structs)
        return None if key is None and value is None else partial(_dict, key, value)
    if isinstance(t, mi.UnionType):
        members = [c for c in (_compile(x, structs) for x in t.types) if c is not None]
        return None if not members else partial(_union, members)
    return None


def _struct(t: msgspec.inspect.StructType, structs: dict[type, list]) -> Check | None:
    if t.cls in structs:  # a recursive type: its fields fill in once compiled
        return partial(_fields, t.cls, structs[t.cls])
    fields: list[tuple[str, str, Check]] = []
    structs[t.cls] = fields
    for f in t.fields:
        if (check := _compile(f.type, structs)) is not None:
            fields.append((f.name, f.encode_name, check))
    return partial(_fields, t.cls, fields) if fields else None


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fields(cls: type, fields: list, value: Any, path: str) -> None:
    if isinstance(value, cls):
        for name, shown, check in fields:
            check(getattr(value, name), _at(path, shown))


def _items(check: Check, value: Any, path: str) -> None:
    if isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]")


def _tuple(checks: list, value: Any, path: str) -> None:
    if isinstance(value, tuple | list):
        for i, (check, item) in enumerate(zip(checks, value, strict=False)):
            if check is not None:
                check(item, f"{path}[{i}]")


def _dict(key: Check | None, check: Check | None, value: Any, path: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if key is not None:
                key(k, _at(path, str(k)))
            if check is not None:
                check(v, _at(path, str(k)))


def _union(checks: list, value: Any, path: str) -> None:
    for check in checks:
        check(value, path)


def _fail(path: str, problem: str | None) -> None:
    if problem is not None:
        raise _refused(path or "body", problem)


def _text(value: Any, path: str) -> None:
    if type(value) is str:
        _fail(path, text_problem(value))


def _int(value: Any, path: str) -> None:
    if type(value) is int:
        _fail(path, int_problem(value))


def _float(value: Any, path: str) -> None:
    if type(value) is float and not math.isfinite(value):
        _fail(path, "must be a finite number")


def _instant(value: Any, path: str) -> None:
    if isinstance(value, datetime):
        _fail(path, instant_problem(value))


def _day(value: Any, path: str) -> None:
    if type(value) is date:
        _fail(path, day_problem(value))


def _any(value: Any, path: str, depth: int = 0) -> None:
    """Free-form JSON: the same rules for every string (keys too) and integer, and bounded nesting."""
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            _fail(path, f"is nested more than {MAX_DEPTH} levels deep")
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in pairs:
            where = _at(path, k) if isinstance(k, str) else f"{path}[{k}]"
            if isinstance(k, str):
                _fail(where, text_problem(k))
            _any(v, where, depth + 1)
    elif type(value) is str:
        _fail(path, text_problem(value))
    elif type(value) is int:
        _fail(path, int_problem(value))
    elif type(value) is float:
        _float(value, path)
