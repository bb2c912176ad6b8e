"""Cursor pagination: the cursor is an opaque token holding the last key seen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from backend.core.crypto import b64d, b64e
from backend.core.errors import InvalidInput
from backend.core.ids import parse_int_id
from backend.core.text import text_problem

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: str | int) -> str:
    return b64e(f"{type(key).__name__}:{key}".encode())


def decode_cursor(cursor: str | None) -> str | int | None:
    if not cursor:
        return None
    try:
        kind, _, value = b64d(cursor).decode().partition(":")
        digits = value.removeprefix("-")
        # ASCII digits only (int() takes any script's), and what a 64-bit key column can hold.
        ascii_digits = digits.isascii() and digits.isdigit() and len(digits) <= 19
        if kind == "int" and ascii_digits and parse_int_id(number := int(value)) is not None:
            return number
        if kind == "str" and value and text_problem(value) is None:  # no NUL or controls into SQL
            return value
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidInput("cursor", "not a cursor this API issued")


def decode_uuid_cursor(cursor: str | None) -> uuid.UUID | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput("cursor", "not a cursor of this list") from None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def page_of(rows: list[T], limit: int, key_of) -> Page[T]:
    """`rows` was fetched with limit + 1 so we know whether another page exists."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(key_of(rows[-1])) if more and rows else None)


def encode_keys(*parts: object) -> str:
    """A cursor for a compound key such as (opens_at, id): the parts as text, '|'-joined."""
    return encode_cursor("|".join(p.isoformat() if hasattr(p, "isoformat") else str(p) for p in parts))


def decode_keys(cursor: str | None, *kinds) -> tuple | None:
    """The compound key a cursor of `encode_keys` holds, each part read by its kind (datetime.fromisoformat,
    uuid.UUID, int); anything else is a 422 naming `cursor`."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    parts = str(value).split("|")
    if len(parts) == len(kinds):
        try:
            key = tuple(kind(part) for kind, part in zip(kinds, parts, strict=True))
        except (ValueError, TypeError):
            key = None
        # Times with a zone, and integers a 64-bit key column can hold (a bigger one fails in PostgreSQL).
        fits = key is not None and all(
            getattr(k, "tzinfo", True) is not None and (type(k) is not int or parse_int_id(k) is not None)
            for k in key
        )
        if fits:
            return key
    raise InvalidInput("cursor", "not a cursor of this list")


async def keyset(query, columns: tuple, kinds: tuple, cursor: str | None, limit: int, newest_first: bool):
    """One page of `query` in the order of `columns` (the last one unique), after the cursor's key."""
    limit = check_limit(limit)
    after = decode_keys(cursor, *kinds)
    if after is not None:
        query = query.where(_beyond(columns, after, newest_first))
    rows = await query.order_by(*columns, ascending=not newest_first).limit(limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    if not (more and rows):
        return Page(rows, None)
    last = [getattr(rows[-1], c._meta.name) for c in columns]
    return Page(rows, encode_keys(*[v.astimezone(UTC) if isinstance(v, datetime) else v for v in last]))


def _beyond(columns: tuple, key: tuple, newest_first: bool):
    """(a, b) > (x, y) spelled out, since row comparisons are not portable across SQLite and PostgreSQL."""
    first, *rest = columns
    value, *others = key
    past = first < value if newest_first else first > value
    if not rest:
        return past
    return past | ((first == value) & _beyond(tuple(rest), tuple(others), newest_first))
