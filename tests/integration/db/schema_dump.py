"""A database's schema as plain sorted data, to compare two databases migrated different ways.

`python -m tests.integration.db.schema_dump DATABASE_URL` prints it as JSON. Tables, columns (type,
nullability, default, primary key), indexes (columns, uniqueness, partial WHERE), foreign keys and
triggers; on PostgreSQL also functions and sequences. Column order is not compared: a column added by a
later migration sits last in the old chain's tables. A UUID literal reads as '<uuid>': piccolo stores a
callable default (uuid7) as the value it returned when the table was made, different in every database.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import sys

_SKIP_TABLES = {"migration", "sqlite_sequence"}
_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")


def sqlite_schema(path: str) -> dict:
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if r[0] not in _SKIP_TABLES
        ]
        tables = {}
        for name in names:
            columns = sorted(
                [c[1], c[2].upper(), bool(c[3]), c[4], bool(c[5])]
                for c in conn.execute(f'PRAGMA table_info("{name}")')
            )
            indexes = []
            for _, index, unique, origin, partial in conn.execute(f'PRAGMA index_list("{name}")'):
                cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{index}")')]
                # Automatic indexes (UNIQUE / PRIMARY KEY) are named by SQLite, and by position.
                label = index if origin == "c" else f"<{origin}>"
                indexes.append([label, cols, bool(unique), bool(partial)])
            fks = sorted(
                [r[3], r[2], r[4], r[5], r[6]] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')
            )
            tables[name] = {"columns": columns, "indexes": sorted(indexes), "foreign_keys": fks}
        triggers = sorted(
            [r[0], r[1], _squash(r[2])]
            for r in conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        )
        return {"tables": tables, "triggers": triggers}
    finally:
        conn.close()


async def postgres_schema(url: str) -> dict:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
            "column_default FROM information_schema.columns WHERE table_schema = 'public'"
        )
        tables: dict[str, dict] = {}
        for r in rows:
            if r["table_name"] in _SKIP_TABLES:
                continue
            table = tables.setdefault(r["table_name"], {"columns": [], "indexes": [], "foreign_keys": []})
            table["columns"].append(
                [
                    r["column_name"],
                    r["data_type"],
                    r["character_maximum_length"],
                    r["is_nullable"],
                    r["column_default"],
                ]
            )
        for r in await conn.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ):
            if r["tablename"] in tables:
                tables[r["tablename"]]["indexes"].append([r["indexname"], r["indexdef"]])
        for r in await conn.fetch(
            "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        ):
            if r["tbl"] in tables:
                tables[r["tbl"]]["foreign_keys"].append([r["conname"], r["def"]])
        for table in tables.values():
            for key in table:
                table[key].sort(key=lambda row: [str(x) for x in row])
        triggers = sorted(
            [r["tgname"], r["tbl"], r["def"]]
            for r in await conn.fetch(
                "SELECT tgname, tgrelid::regclass::text AS tbl, pg_get_triggerdef(oid) AS def "
                "FROM pg_trigger WHERE NOT tgisinternal"
            )
        )
        functions = sorted(
            [r["proname"], _squash(r["src"])]
            for r in await conn.fetch(
                "SELECT proname, prosrc AS src FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
            )
        )
        sequences = sorted(
            r["sequence_name"]
            for r in await conn.fetch(
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'"
            )
        )
        return {"tables": tables, "triggers": triggers, "functions": functions, "sequences": sequences}
    finally:
        await conn.close()


def schema(url: str) -> dict:
    if url.startswith("sqlite:///"):
        found = sqlite_schema(url.removeprefix("sqlite:///"))
    else:
        found = asyncio.run(postgres_schema(url))
    return json.loads(_UUID.sub("'<uuid>'", json.dumps(found, default=str)))


def _squash(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip()


if __name__ == "__main__":
    print(json.dumps(schema(sys.argv[1]), indent=1, sort_keys=True, default=str))
