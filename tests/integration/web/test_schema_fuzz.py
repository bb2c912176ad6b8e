"""schemathesis over the whole OpenAPI schema against a live server: no input may cause a 5xx, no input
that violates the schema may be accepted (negative data: a string for a number, a value out of range, a
missing field), and every answer conforms to the document (status codes, content types, headers, bodies).

The server runs on a database of its own: fuzzing may lock accounts or hit rate limits.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pyotp

from tests.support.api import random_phone, sms_code_in
from tests.support.live_server import live_server

SCHEMATHESIS = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
# Logging out or ending sessions mid-run would leave the rest of the run unauthenticated.
KEEP_LOGGED_IN = ["staffLogout", "phoneLogout", "endMySession", "staffChangePassword"]


def _cli(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "backend.cli", *args], env=env, check=True, capture_output=True, timeout=300
    )


# A schema-violating request must be refused; 413 is a refusal too (a body over the route's limit).
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""


def _fuzz(url: str, token: str, tag_regex: str, config: Path) -> subprocess.CompletedProcess:
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(config),
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        # No 5xx, no schema-violating input accepted, and every answer as documented: its status code,
        # content type, headers and body schema.
        "not_a_server_error,negative_data_rejection,status_code_conformance,content_type_conformance,"
        "response_headers_conformance,response_schema_conformance",
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


async def _tokens(url: str, env: dict) -> tuple[str, str]:
    logins = json.loads((Path(env["REMOTECASE_VAR_DIR"]) / "demo-logins.json").read_text())
    admin = next(s for s in logins["staff"] if s["username"] == "admin")
    async with httpx.AsyncClient(base_url=url) as http:
        staff = await http.post(
            "/api/v1/auth/login",
            json={
                "username": "admin",
                "password": admin["password"],
                "totp": pyotp.TOTP(admin["totp_secret"]).now(),
            },
        )
        phone = random_phone()
        await http.post("/m/v1/auth/code", json={"phone": phone})
        code = await sms_code_in(env["DATABASE_URL"], phone)
        citizen = await http.post("/m/v1/auth/login", json={"phone": phone, "code": code})
    return staff.json()["access_token"], citizen.json()["access_token"]


async def test_no_request_makes_the_server_fail(isolated_database, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    env = os.environ.copy() | isolated_database
    await asyncio.to_thread(_cli, env, "migrate")
    await asyncio.to_thread(_cli, env, "seed-demo")
    with live_server(isolated_database) as url:
        staff_token, phone_token = await _tokens(url, env)
        console = await asyncio.to_thread(_fuzz, url, staff_token, "^(console|ops)", config)
        phone = await asyncio.to_thread(_fuzz, url, phone_token, "^phone", config)
    for run in (console, phone):
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-2000:]
        assert re.search(r"(\d+) generated, \1 passed", run.stdout), run.stdout[-3000:]
