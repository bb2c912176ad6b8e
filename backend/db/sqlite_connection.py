"""sqlite3 connections with the async surface of aiosqlite's that piccolo and backend.db use, run inline on
the event loop's thread (see sqlite_pool.py for why): only a COMMIT leaves the loop, for a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import TYPE_CHECKING

from backend.db import sqlite_types

if TYPE_CHECKING:
    from backend.db.sqlite_pool import PooledSQLiteEngine

_LOCKED = ("database is locked", "database table is locked")


def is_locked(exc: sqlite3.OperationalError) -> bool:
    return any(text in str(exc) for text in _LOCKED)


def reads_only(sql: str) -> bool:
    return sql.lstrip()[:6].upper() in ("SELECT", "PRAGMA")


class InlineCursor:
    """The part of aiosqlite's cursor that piccolo uses."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def fetchall(self) -> list:
        return self._cursor.fetchall()

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int) -> list:
        return self._cursor.fetchmany(size)

    async def execute(self, sql: str, parameters=()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def close(self) -> None:
        self._cursor.close()

    @property
    def lastrowid(self):
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self):
        return self._cursor.description


class _Pending:
    """`await conn.execute(...)` and `async with conn.execute(...) as cursor` both work, as in aiosqlite."""

    __slots__ = ("_connection", "_sql", "_parameters", "_cursor")

    def __init__(self, connection: InlineConnection, sql: str, parameters) -> None:
        self._connection, self._sql, self._parameters = connection, sql, parameters
        self._cursor: InlineCursor | None = None

    def __await__(self):
        return self._connection._run(self._sql, self._parameters).__await__()

    async def __aenter__(self) -> InlineCursor:
        self._cursor = await self._connection._run(self._sql, self._parameters)
        return self._cursor

    async def __aexit__(self, *exc) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class InlineConnection:
    """A sqlite3 connection with the async surface of aiosqlite's that piccolo and backend.db use."""

    def __init__(self, engine: PooledSQLiteEngine) -> None:
        kwargs = {k: v for k, v in engine.connection_kwargs.items() if k != "timeout"}  # engine.lock_wait
        # Busy timeout 0: a lock held by another process is waited for with asyncio.sleep, not on the loop.
        self._conn = sqlite3.connect(**kwargs, timeout=0, check_same_thread=False)
        self._conn.row_factory = sqlite_types.row_as_dict
        self._conn.execute("PRAGMA foreign_keys = 1")
        self._conn.execute("PRAGMA cache_size = -16384")
        self._engine = engine

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def row_factory(self):
        return self._conn.row_factory

    @row_factory.setter
    def row_factory(self, value) -> None:
        self._conn.row_factory = value

    def execute(self, sql: str, parameters=()) -> _Pending:
        return _Pending(self, sql, parameters or ())

    async def execute_fetchall(self, sql: str, parameters=()) -> list:
        return await (await self._run(sql, parameters or ())).fetchall()

    async def executemany(self, sql: str, rows) -> None:
        self._conn.executemany(sql, rows)

    def fetch_now(self, sql: str, parameters) -> list:
        """A statement inside this connection's open transaction, run without a coroutine: the transaction
        already holds what it needs, so there is nothing to wait for (backend.db.sql's hot path)."""
        return self._conn.execute(sql, parameters).fetchall()

    def commit(self, then=None) -> asyncio.Future:
        """COMMIT in a worker thread, started at once (the fsync is the one slow step of a write; the loop
        serves others meanwhile). `then` runs in that thread the moment the COMMIT succeeds, without waiting
        for the loop, which may be busy with other requests for milliseconds."""

        def commit_then() -> None:
            self._conn.execute("COMMIT")
            if then is not None:
                then()

        return asyncio.get_running_loop().run_in_executor(None, commit_then)

    async def _run(self, sql: str, parameters) -> InlineCursor:
        head = sql.lstrip()[:6].upper()
        if head == "COMMIT":
            await self.commit()
            return InlineCursor(self._conn.cursor())
        if self._conn.in_transaction and head != "BEGIN":
            return InlineCursor(self._conn.execute(sql, parameters))
        # BEGIN or a statement in autocommit mode: nothing is held yet, so a locked database can be retried.
        deadline, pause = time.monotonic() + self._engine.lock_wait, 0.001
        while True:
            try:
                return InlineCursor(self._conn.execute(sql, parameters))
            except sqlite3.OperationalError as exc:
                if not is_locked(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.close_now()

    def close_now(self) -> None:
        self._conn.close()

    @property
    def usable(self) -> bool:
        try:
            self._conn.total_changes  # noqa: B018 - raises ProgrammingError once closed
        except sqlite3.ProgrammingError:
            return False
        return True
