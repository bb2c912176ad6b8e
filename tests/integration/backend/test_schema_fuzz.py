"""schemathesis over the whole OpenAPI schema against a live server: no input may cause a 5xx."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pyotp

from tests.support.api import last_code, random_phone, staff_credentials
from tests.support.live_server import live_server

SCHEMATHESIS = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
# Logging out or ending sessions mid-run would leave the rest of the run unauthenticated.
KEEP_LOGGED_IN = ["staffLogout", "phoneLogout", "endMySession", "staffChangePassword"]


def _fuzz(url: str, token: str, tag_regex: str) -> subprocess.CompletedProcess:
    command = [
        SCHEMATHESIS,
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "40",
        "--seed",
        "20261122",
        "--header",
        f"Authorization: Bearer {token}",
        "--include-tag-regex",
        tag_regex,
        "--request-timeout",
        "20",
    ]
    for operation in KEEP_LOGGED_IN:
        command += ["--exclude-operation-id", operation]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


async def _tokens(url: str, demo_logins: dict) -> tuple[str, str]:
    creds = staff_credentials(demo_logins, "admin")
    async with httpx.AsyncClient(base_url=url) as http:
        staff = await http.post(
            "/api/v1/auth/login",
            json={
                "username": "admin",
                "password": creds["password"],
                "totp": pyotp.TOTP(creds["totp_secret"]).now(),
            },
        )
        phone = random_phone()
        await http.post("/m/v1/auth/code", json={"phone": phone})
        citizen = await http.post("/m/v1/auth/login", json={"phone": phone, "code": await last_code(phone)})
    return staff.json()["access_token"], citizen.json()["access_token"]


async def test_no_request_makes_the_server_fail(demo_logins):
    with live_server() as url:
        staff_token, phone_token = await _tokens(url, demo_logins)
        console = await asyncio.to_thread(_fuzz, url, staff_token, "^(console|ops)")
        phone = await asyncio.to_thread(_fuzz, url, phone_token, "^phone")
    for run in (console, phone):
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        print(run.stdout)
        assert " passed" in run.stdout
