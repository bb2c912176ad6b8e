"""Hand-written SQL for the hot paths (authentication, check-in, location upload).

piccolo builds each query object in Python at 100-300 us a statement, which is more than SQLite or
PostgreSQL take to run it; a request path of ten statements pays milliseconds for nothing. These helpers
send a fixed SQL string straight to the driver on the current transaction's connection (or a fresh one),
so they join `write_tx()` like any piccolo query. Values go through the same adapters piccolo registers,
so rows written here read back through piccolo unchanged.

Write statements with PostgreSQL placeholders ($1, $2, ...); for SQLite they become ?1, ?2, ...
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TypeVar

from backend.db.engine import engine, is_sqlite
from backend.db.sqlite_pool import PooledSQLiteEngine, reads_only

T = TypeVar("T")
_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=512)
def _for_sqlite(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


async def fetch(sql: str, *args) -> list[dict]:
    db = engine()
    tx = db.current_transaction.get()
    if isinstance(db, PooledSQLiteEngine):  # the only SQLite engine (backend.db.engine.make_engine)
        sql = _for_sqlite(sql)
        # Statements run inline here (backend.db.sqlite_pool): inside a transaction, or a read that finds
        # the database unlocked, they need no coroutine at all, which is a third of their cost.
        if tx is not None:
            if tx.connection.in_transaction:
                return tx.connection.fetch_now(sql, args)
            return await tx.connection.execute_fetchall(sql, args)
        if reads_only(sql) and (rows := db.read_now(sql, args)) is not None:
            return rows
        return await db._run_in_new_connection(sql, list(args))
    if tx is not None:
        return [dict(r) for r in await tx.connection.fetch(sql, *args)]
    if db.pool is None:  # a CLI command or script that did not open the pool
        connection = await db.get_new_connection()
        try:
            return [dict(r) for r in await connection.fetch(sql, *args)]
        finally:
            await connection.close()
    async with db.pool.acquire() as connection:
        return [dict(r) for r in await connection.fetch(sql, *args)]


async def fetch_one(sql: str, *args) -> dict | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


async def fetch_one_for_update(sql: str, *args) -> dict | None:
    """fetch_one that locks the row for the rest of the transaction on PostgreSQL, where concurrent
    transactions would otherwise read the same value and overwrite each other's update. SQLite needs no
    lock: its write transactions run one at a time.

    NO KEY UPDATE, not UPDATE: inserting a row that references this one (a check-in of the measure) takes
    a KEY SHARE lock on it, which FOR UPDATE waits for. Two check-ins of one person that had both inserted
    and then both asked FOR UPDATE waited on each other: a deadlock, answered 500. The lock still
    serialises every read-then-write of the row's values, which is all it is for."""
    if not is_sqlite():
        sql = f"{sql} FOR NO KEY UPDATE"
    return await fetch_one(sql, *args)


async def execute(sql: str, *args) -> None:
    await fetch(sql, *args)


_COLUMN_NAMES: dict[type, frozenset[str]] = {}


def stored(table: type[T], row: dict) -> T:
    """A `SELECT *` row as the piccolo object piccolo itself would build, without its constructor's work
    for each column (32 us for a 22-column measure, on every phone request). A row that is not exactly the
    table's columns goes through the constructor."""
    names = _COLUMN_NAMES.get(table)
    if names is None:
        names = _COLUMN_NAMES[table] = frozenset(c._meta.name for c in table._meta.columns)
    if row.keys() != names:
        return table(_exists_in_db=True, **row)
    obj = table.__new__(table)
    obj.__dict__.update(row)
    obj._exists_in_db, obj._was_created = True, None
    return obj
