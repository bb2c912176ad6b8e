"""The migrations declare what the tables declare, and the initial one can be taken back.

Each test runs piccolo in a subprocess against a fresh database of its own (SQLite or PostgreSQL, as the
session's DATABASE_URL says), so neither the session's database nor the repository is touched: --auto
runs against a copy of backend/migrations, and a file it writes there means the tables have drifted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.db.schema_dump import schema

ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS = ROOT / "backend" / "migrations"


def _env(database: dict, **extra: str) -> dict:
    return os.environ | database | {"PICCOLO_CONF": "backend.piccolo_conf"} | extra


def _run(env: dict, *args: str) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _migrate(env: dict) -> str:
    return _run(env, sys.executable, "-m", "backend.cli", "migrate")


def _piccolo(env: dict, *args: str) -> str:
    return _run(env, sys.executable, "-m", "piccolo.main", "migrations", *args)


def _with_migrations_copy(tmp_path: Path) -> dict:
    """A piccolo configuration whose app keeps its migrations in a copy of backend/migrations."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "copied_app.py").write_text(
        f"from backend.piccolo_app import APP_CONFIG\nAPP_CONFIG.migrations_folder_path = {str(copy)!r}\n"
    )
    (tmp_path / "copied_conf.py").write_text(
        "from piccolo.conf.apps import AppRegistry\n"
        "from backend.piccolo_conf import DB  # noqa: F401\n"
        "APP_REGISTRY = AppRegistry(apps=['copied_app'])\n"
    )
    return {"PICCOLO_CONF": "copied_conf", "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}


def test_auto_finds_no_changes_after_a_fresh_migrate(isolated_database, tmp_path):
    env = _env(isolated_database)
    _migrate(env)
    conf = _with_migrations_copy(tmp_path)
    before = sorted(p.name for p in (tmp_path / "migrations").glob("*.py"))

    output = _piccolo(env | conf, "new", "remotecase", "--auto")

    after = sorted(p.name for p in (tmp_path / "migrations").glob("*.py"))
    assert "No changes detected" in output, output
    assert after == before, f"--auto wrote {set(after) - set(before)}: the tables and migrations differ"


def test_the_initial_migration_goes_backwards_and_forwards_again(isolated_database):
    env = _env(isolated_database)
    _migrate(env)
    migrated = schema(isolated_database["DATABASE_URL"])
    assert len(migrated["tables"]) >= 37
    assert "checkin_windows_measure_status_opens" in str(migrated["tables"]["checkin_windows"]["indexes"])
    assert "location_fixes_measure_t" in str(migrated["tables"]["location_fixes"]["indexes"])
    postgres = "functions" in migrated
    if postgres:  # the audit rows are sealed at commit by a trigger of its own
        assert [t[0] for t in migrated["triggers"]] == ["audit_seal"]
        assert "audit_pending_seq" in migrated["sequences"]

    _piccolo(env, "backwards", "remotecase", "--auto_agree")

    emptied = schema(isolated_database["DATABASE_URL"])
    assert emptied["tables"] == {} and emptied["triggers"] == []
    if postgres:
        assert emptied["functions"] == []
        assert "audit_pending_seq" not in emptied["sequences"]

    _migrate(env)  # and forwards again: the same schema, seeds included
    assert schema(isolated_database["DATABASE_URL"]) == migrated


def test_migrate_twice_changes_nothing(isolated_database):
    env = _env(isolated_database)
    _migrate(env)
    first = schema(isolated_database["DATABASE_URL"])
    output = _migrate(env)
    assert "No migrations need to be run" in output
    assert schema(isolated_database["DATABASE_URL"]) == first


def test_a_database_part_way_through_the_old_chain_is_told_what_to_do(isolated_database):
    """A developer's database that ran the old chain up to 2026-12-02T00:10 must not have its tables
    created again: migrate stops, naming the commit to migrate from first, and changes nothing."""
    env = _env(isolated_database)
    _migrate(env)
    url = isolated_database["DATABASE_URL"]
    # As recorded by a database that last migrated before 2026-12-02T00:20 landed.
    _execute(url, "UPDATE migration SET name = '2026-12-02T00:10:00:000000' WHERE app_name = 'remotecase'")
    before = schema(url)

    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"], env=env, cwd=ROOT, capture_output=True, text=True
    )

    assert done.returncode != 0
    assert "21f42d4" in done.stdout + done.stderr
    assert schema(url) == before


def _execute(url: str, sql: str) -> None:
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql)
        return
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())
