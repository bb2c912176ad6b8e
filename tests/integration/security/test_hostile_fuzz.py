"""Every operation of the OpenAPI document, sent hostile values by a real server process, while its memory
and event loop are watched: no 5xx, no /health answer slower than 1 s, no 100 MB of growth.

The values: 1,000-deep nesting, extreme and naive times, integers beyond 64 bits (paths, bodies, queries),
strings coerced to numbers and booleans, Unicode digits and control characters in every string field,
malformed GeoJSON, an image bomb wherever an image is taken, oversized bodies with and without a token.
Deterministic: the values are fixed lists walked over the schema in its order (hypothesis derandomized).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pyotp

from tests.support import hostile_values as hv
from tests.support.api import random_phone, sms_code_in
from tests.support.live_server import live_server

# Operations that would end the run's own sessions.
SKIP = {"staffLogout", "phoneLogout", "endMySession", "staffChangePassword", "endMeasure"}


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
                    for query in hv.queries(params) if not hostile else [{}]:
                        await send(method.upper(), hv.url(template, params, ids, hostile), auth, params=query)
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                if not body:
                    continue
                path = hv.url(template, params, ids, False)
                raw = {"content-type": "application/json"}
                await send(method.upper(), path, raw, content=hv.DEEP)
                await send(method.upper(), path, auth | raw, content=hv.DEEP)
                example = hv.example(body["schema"], spec, ids)
                for where, value in hv.mutations(example, body["schema"], spec):
                    await send(method.upper(), path, auth, json=hv.put(example, where, value))
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
