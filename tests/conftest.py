"""Test session setup: a database of its own for every run, migrated and seeded, and one running app.

SQLite (default): a fresh file under a temp dir. PostgreSQL (DATABASE_URL=postgresql://...): a fresh
database created next to the one named, dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

_VAR = Path(tempfile.mkdtemp(prefix="remotecase-test-"))
_BASE_URL = os.environ.get("DATABASE_URL", "")
_PG_DB = None
if _BASE_URL.startswith(("postgres://", "postgresql://")):
    _PG_DB = f"remotecase_test_{secrets.token_hex(4)}"
    parts = urlsplit(_BASE_URL)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{_PG_DB}"))
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_VAR / 'test.db'}"
os.environ["REMOTECASE_VAR_DIR"] = str(_VAR)
os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
os.environ["PICCOLO_CONF"] = "backend.piccolo_conf"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["TRUSTED_PROXIES"] = "1"
_SHARED = Path(__file__).resolve().parents[2] / "shared"
if (_SHARED / "models" / "face").is_dir():
    os.environ.setdefault("FACE_MODEL_DIR", str(_SHARED / "models" / "face"))
    os.environ.setdefault("FACES_DIR", str(_SHARED / "faces"))
for name in (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_VERIFY_SERVICE_SID",
    "TWILIO_FROM",
    "TWILIO_BASE_URL",
):
    os.environ.pop(name, None)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_BASE_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# Data and services CI has: there a missing one fails the run instead of skipping its tests.
_CI_DATA = ("FACE_MODEL_DIR", "FACES_DIR")


def pytest_sessionstart(session) -> None:
    if os.environ.get("CI"):
        missing = [name for name in _CI_DATA if not Path(os.environ.get(name, "")).is_dir()]
        if missing:
            raise pytest.UsageError(f"CI: {', '.join(missing)} must name the shared face models and photos")
    if _PG_DB:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{_PG_DB}"'))
    from backend.demo import seed_demo
    from backend.domains import migrate

    asyncio.run(migrate())
    asyncio.run(seed_demo())


def pytest_sessionfinish(session, exitstatus) -> None:
    if _PG_DB:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_PG_DB}" WITH (FORCE)'))
    shutil.rmtree(_VAR, ignore_errors=True)


@pytest.fixture
async def isolated_database(tmp_path):
    """A second, empty database (and var dir) for a test that must not share state with the others,
    e.g. fuzzing, which may lock accounts. Yields the environment a subprocess needs to use it."""
    if _PG_DB:
        name = f"{_PG_DB}_iso_{secrets.token_hex(3)}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(_BASE_URL)._replace(path=f"/{name}"))
    else:
        url = f"sqlite:///{tmp_path / 'isolated.db'}"
    yield {"DATABASE_URL": url, "REMOTECASE_VAR_DIR": str(tmp_path / "var")}
    if _PG_DB:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def var_dir() -> Path:
    return _VAR


@pytest.fixture(scope="session")
def demo_logins() -> dict:
    import json

    return json.loads((_VAR / "demo-logins.json").read_text())


@pytest.fixture(scope="session")
async def app():
    from backend.app import create_app

    return create_app()


@pytest.fixture(scope="session")
async def client(app):
    """An HTTP client on the app in the tests' own event loop (Litestar's AsyncTestClient runs the app in a
    separate thread and loop, which cannot share the database pool with the tests' direct queries)."""
    import httpx

    from backend.db.engine import close_database, open_database

    # What the app's lifespan does, done here: anyio's lifespan task group cannot be left from the
    # different task pytest-asyncio uses for session teardown.
    await open_database()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as test_client:
        yield test_client
    await close_database()
