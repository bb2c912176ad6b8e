"""A throwaway database for a benchmark run: a temp SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


async def _pg(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_database(backend: str, pg_url: str):
    """Sets DATABASE_URL, REMOTECASE_VAR_DIR and SECRET_KEY for this process; yields the database URL."""
    var = tempfile.mkdtemp(prefix="remotecase-bench-")
    os.environ.update(
        {
            "REMOTECASE_VAR_DIR": var,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "PICCOLO_CONF": "backend.piccolo_conf",
            "LOG_LEVEL": "WARNING",
        }
    )
    name = None
    if backend == "postgresql":
        name = f"remotecase_bench_{secrets.token_hex(4)}"
        asyncio.run(_pg(pg_url, f'CREATE DATABASE "{name}"'))
        url = urlunsplit(urlsplit(pg_url)._replace(path=f"/{name}"))
    else:
        url = f"sqlite:///{var}/bench.db"
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        if name:
            asyncio.run(_pg(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
