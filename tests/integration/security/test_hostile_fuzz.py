"""Every operation of the OpenAPI document, sent hostile values by a real server process, while its memory
and event loop are watched: no 5xx, no /health answer slower than 1 s, no 100 MB of growth.

The values: 1,000-deep nesting, extreme and naive times, integers beyond 64 bits (paths, bodies, queries),
strings coerced to numbers and booleans, Unicode digits and control characters in every string field,
malformed GeoJSON, an image bomb wherever an image is taken, oversized bodies with and without a token.
Deterministic: the values are fixed lists walked over the schema in its order (hypothesis derandomized).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pyotp

from backend.core.clock import utcnow
from tests.support.api import random_phone, sms_code_in
from tests.support.live_server import live_server

HUGE = 2**64 + 1
DEEP = "[" * 1000 + "]" * 1000
# Operations that would end the run's own sessions.
SKIP = {"staffLogout", "phoneLogout", "endMySession", "staffChangePassword", "endMeasure"}
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


def _bomb() -> str:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 16000, 16000, 3) + bytes.fromhex("011100021100031100")
    scan = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return base64.b64encode(b"\xff\xd8" + sof + scan + b"\x00" * 7000 + b"\xff\xd9").decode()


BOMB = _bomb()


def _cli(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, check=True, capture_output=True, timeout=300
    )


def _server_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"backend.cli" in cmdline and str(port).encode() in cmdline:
                return int(entry.name)
    raise AssertionError(f"no server process on port {port}")


def _rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


class HealthWatch(threading.Thread):
    """Polls /health in a loop; the slowest answer is how long the event loop was stuck at worst."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.slowest, self.failures = url, 0.0, []
        self._halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self._halt.is_set():
                start = time.monotonic()
                status = http.get("/health").status_code
                self.slowest = max(self.slowest, time.monotonic() - start)
                if status != 200:
                    self.failures.append(status)
                time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)




async def _setup(http: httpx.AsyncClient, env: dict) -> dict:
    """An officer, and a supervised person with an active measure logged in on a phone."""
    logins = json.loads((Path(env["REMOTECASE_VAR_DIR"]) / "demo-logins.json").read_text())
    officer = next(s for s in logins["staff"] if s["username"] == "officer")
    login = await http.post(
        "/api/v1/auth/login",
        json={
            "username": "officer",
            "password": officer["password"],
            "totp": pyotp.TOTP(officer["totp_secret"]).now(),
        },
    )
    staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
    phone = random_phone()
    person = await http.post(
        "/api/v1/supervisees",
        json={"phone": phone, "display_name": "Fuzz Person", "region_code": "330106"},
        headers=staff,
    )
    me = (await http.get("/api/v1/me", headers=staff)).json()
    start = date.today()
    measure = await http.post(
        "/api/v1/measures",
        json={
            "person_id": person.json()["id"],
            "kind": "bail",
            "legal_basis": "CPL art. 67",
            "deciding_agency_id": me["agency_id"],
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=90)).isoformat(),
            "checkin_plan": {"kind": "daily", "times": ["09:00"], "window_minutes": 60},
        },
        headers=staff,
    )
    assert measure.status_code == 201, measure.text
    await http.post("/m/v1/auth/code", json={"phone": phone})
    code = await sms_code_in(env["DATABASE_URL"], phone)
    tokens = (await http.post("/m/v1/auth/login", json={"phone": phone, "code": code})).json()
    return {
        "staff": staff,
        "phone": {"Authorization": f"Bearer {tokens['access_token']}"},
        "measure_id": measure.json()["id"],
        "agency_id": me["agency_id"],
    }


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _resolve(options[0], spec) if options else {}
    return schema


def _example(schema: dict, spec: dict, ids: dict, depth: int = 0):
    """A plausible value for the schema: what the hostile values are put into, one field at a time."""
    schema = _resolve(schema, spec)
    kind, fmt = schema.get("type"), schema.get("format")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        return {k: _example(v, spec, ids, depth + 1) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}), spec, ids, depth + 1)]
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


def _mutations(value, schema: dict, spec: dict, path: tuple = ()):
    """(path, hostile value) for every field of the example, by the field's kind."""
    schema = _resolve(schema, spec)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, inner in value.items():
            yield from _mutations(inner, props.get(key, {}), spec, (*path, key))
        yield path, GEOJSON[0]
        return
    if isinstance(value, list):
        if value:
            yield from _mutations(value[0], schema.get("items", {}), spec, (*path, 0))
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


def _put(body, path: tuple, item):
    if not path:
        return item
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = item
    return body


def _url(template: str, params: list, ids: dict, hostile: bool) -> str:
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


def _queries(params: list) -> list[dict]:
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


async def _walk(url: str, ids: dict) -> tuple[list[str], dict]:
    failures: list[str] = []
    seen: dict = {"requests": 0, "operations": set(), "refused": 0}
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        spec = (await http.get("/schema/openapi.json")).json()

        async def send(method: str, path: str, headers: dict, **kwargs) -> None:
            try:
                response = await http.request(method, path, headers=headers, **kwargs)
            except httpx.TimeoutException:
                failures.append(f"{method} {path} {str(kwargs)[:200]} -> no answer in 20 s")
                return
            seen["requests"] += 1
            seen["refused"] += 400 <= response.status_code < 500
            if response.status_code >= 500:
                failures.append(f"{method} {path} {str(kwargs)[:200]} -> {response.status_code}")

        for template, item in spec["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete") or op.get("operationId") in SKIP:
                    continue
                auth = ids["phone"] if template.startswith("/m/") else ids["staff"]
                seen["operations"].add(op.get("operationId"))
                params = [*item.get("parameters", []), *op.get("parameters", [])]
                for hostile in (False, True):
                    for query in _queries(params) if not hostile else [{}]:
                        await send(method.upper(), _url(template, params, ids, hostile), auth, params=query)
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                if not body:
                    continue
                path = _url(template, params, ids, False)
                raw = {"content-type": "application/json"}
                await send(method.upper(), path, raw, content=DEEP)
                await send(method.upper(), path, auth | raw, content=DEEP)
                example = _example(body["schema"], spec, ids)
                for where, value in _mutations(example, body["schema"], spec):
                    await send(method.upper(), path, auth, json=_put(example, where, value))
        big = b"[" + b"1," * (6 << 20) + b"1]"  # 12 MB
        for headers in ({}, ids["phone"], ids["phone"] | {"Idempotency-Key": "fuzz-big"}):
            await send("POST", "/m/v1/locations", headers | {"content-type": "application/json"}, content=big)
            await send("POST", "/m/v1/auth/code", headers | {"content-type": "application/json"}, content=big)
    return failures, seen


async def test_hostile_values_over_every_operation(isolated_database):
    env = os.environ.copy() | isolated_database
    await asyncio.to_thread(_cli, env, "migrate")
    await asyncio.to_thread(_cli, env, "seed-demo")
    with live_server(isolated_database) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            ids = await _setup(http, env)
        pid = _server_pid(int(url.rsplit(":", 1)[1]))
        before = _rss(pid)
        watch = HealthWatch(url)
        watch.start()
        try:
            failures, seen = await _walk(url, ids)
        finally:
            watch.stop()
        grown = _rss(pid) - before
    assert not failures, "\n".join(failures[:40])
    assert len(seen["operations"]) > 50 and seen["refused"] > 1000, seen  # the walk covered the API
    assert not watch.failures, watch.failures[:10]
    assert watch.slowest < 1.0, f"/health waited {watch.slowest:.2f} s"
    assert grown < 100 << 20, f"the server grew by {grown >> 20} MB"
