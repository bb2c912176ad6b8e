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


def run_per_backend(script: str, backends: str, argv: list[str]) -> dict:
    """Run `script --child BACKEND argv...` once per backend (the piccolo engine is chosen once per process)
    and collect the JSON line each child prints."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    results = {}
    for backend in backends.split(","):
        out = subprocess.run(
            [sys.executable, script, "--child", backend, *argv],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(script).resolve().parent.parent,
        )
        results[backend] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


async def supervised_person(agency, index: int, phone_prefix: str, now):
    """A supervisee with an active bail measure whose notice is acknowledged."""
    from backend.accounts.tables import User

    user = User(
        role="supervisee",
        display_name=f"P{index}",
        phone=f"{phone_prefix}{index:08d}",
        agency=agency.id,
        region_code="330106",
    )
    await user.save()
    measure = bench_measure(user.id, agency, now)
    await measure.save()
    return user, measure


def bench_measure(person_id, agency, now):
    """An unsaved active bail measure with its notice acknowledged."""
    from datetime import date, timedelta

    from backend.supervision.measures.tables import Measure

    return Measure(
        person=person_id,
        kind="bail",
        legal_basis="bench",
        deciding_agency=agency.id,
        executing_agency=agency.id,
        stage="investigation",
        start_date=date.today(),
        end_date=date.today() + timedelta(days=150),
        created_by="bench",
        notice_acknowledged_at=now,
    )
