"""Hostile values for every kind of field of the OpenAPI document, and the requests that carry them:
an example body from a schema, each field swapped for hostile values in turn, hostile paths and
queries."""

from __future__ import annotations

import base64
import json
import re
import struct
import uuid
from datetime import date, timedelta

from backend.core.clock import utcnow

HUGE = 2**64 + 1
DEEP = "[" * 1000 + "]" * 1000
STRINGS = ["\u0000", "a\u202eb", "\u2066x\u2069", "\u0007\u009b", "١٢٣٤٥٦", "１２３", "\ud7ff" * 3]
TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-05-01T09:00:00", "9999-12-31"]
NUMBERS = [HUGE, -HUGE, "5", 1e308, -1]
BOOLEANS = ["true", 1, None]
GEOJSON = [
    {"type": "Polygon"},
    {"type": "Polygon", "coordinates": [[[121.3, 31.1], [121.6, 31.1], [121.6, 31.35]]]},
    {"type": "MultiPolygon", "coordinates": [[[HUGE, 2]]]},
    {"type": "Feature", "id": "z", "properties": {"role": "allowed"}, "geometry": {"type": "Polygon"}},
]


def bomb() -> str:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 16000, 16000, 3) + bytes.fromhex("011100021100031100")
    scan = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return base64.b64encode(b"\xff\xd8" + sof + scan + b"\x00" * 7000 + b"\xff\xd9").decode()


BOMB = bomb()


def resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return resolve(options[0], spec) if options else {}
    return schema


def example(schema: dict, spec: dict, ids: dict, depth: int = 0):
    """A plausible value for the schema: what the hostile values are put into, one field at a time."""
    schema = resolve(schema, spec)
    kind, fmt = schema.get("type"), schema.get("format")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {k: example(v, spec, ids, depth + 1) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), spec, ids, depth + 1)]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if fmt == "date-time":
        return utcnow().isoformat()
    if fmt == "date":
        return (date.today() + timedelta(days=2)).isoformat()
    if fmt == "uuid":
        return ids["measure_id"]
    return "x"


def mutations(value, schema: dict, spec: dict, path: tuple = ()):
    """(path, hostile value) for every field of the example, by the field's kind."""
    schema = resolve(schema, spec)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, inner in value.items():
            yield from mutations(inner, props.get(key, {}), spec, (*path, key))
        yield path, GEOJSON[0]
        return
    if isinstance(value, list):
        if value:
            yield from mutations(value[0], schema.get("items", {}), spec, (*path, 0))
        yield path, [DEEP]
        return
    name = str(path[-1]) if path else ""
    if name.endswith("base64"):
        yield path, BOMB
        yield path, ""
    if isinstance(value, bool):
        hostile = BOOLEANS
    elif isinstance(value, int | float):
        hostile = NUMBERS
    elif schema.get("format") in ("date-time", "date"):
        hostile = TIMES
    else:
        hostile = [*STRINGS, *TIMES[:1], HUGE]
    for item in hostile:
        yield path, item
    if "area" in name or "geometry" in name or "feature" in name:
        for shape in GEOJSON:
            yield path, shape


def put(body, path: tuple, item):
    if not path:
        return item
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = item
    return body


def url(template: str, params: list, ids: dict, hostile: bool) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        param = next((p for p in params if p["name"] == name), {})
        schema = param.get("schema", {})
        if schema.get("type") == "integer":
            return str(HUGE if hostile else 1)
        if schema.get("format") == "uuid":
            return str(uuid.UUID(int=HUGE % 2**128)) if hostile else ids.get(name, ids["measure_id"])
        return "١٢٣" if hostile else "x"

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", value, template)


def queries(params: list) -> list[dict]:
    query = [p for p in params if p.get("in") == "query"]
    base = {}
    for p in query:
        schema = p.get("schema", {})
        if schema.get("format") == "date-time" or p["name"] in ("start", "end"):
            base[p["name"]] = (utcnow() - timedelta(days=1 if p["name"] == "start" else 0)).isoformat()
    out = [base]
    for p in query:
        for item in [str(HUGE), "-1", "\u0000", "١٢٣", *TIMES]:
            out.append(base | {p["name"]: item})
    if "start" in base:
        out.append({"start": "2000-01-01T00:00:00Z", "end": "2099-12-31T00:00:00Z"})
        out.append({"start": TIMES[2], "end": utcnow().isoformat()})
    return out
