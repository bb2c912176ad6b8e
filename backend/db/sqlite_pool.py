"""piccolo's SQLite engine, run on the event loop's own thread with reusable connections.

Stock piccolo goes through aiosqlite: a new connection (and thread) per query or transaction, and a thread
hop of about 150 us per statement, which is far more than the statement itself (5-20 us on an indexed,
local WAL file). Here statements run inline on sqlite3 connections kept in a small pool, and only what
really waits leaves the loop:

- a COMMIT (an fsync of the WAL with synchronous=FULL) runs in a worker thread, so other requests go on;
- waiting for the write lock never blocks: this process's writers queue on an asyncio lock (first come,
  first served), and another process's lock (the scheduler, the CLI) is retried with an async back-off
  instead of SQLite's busy handler, which would sleep on the loop thread.

The cost is that a slow statement (a full-table report) holds the loop while it runs; keep those paged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

MAX_IDLE = 8
_LOCKED = ("database is locked", "database table is locked")


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    return any(text in str(exc) for text in _LOCKED)


def _reads_only(sql: str) -> bool:
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
        kwargs = dict(engine.connection_kwargs)
        self.lock_wait = float(kwargs.pop("timeout", 30))
        # Busy timeout 0: a lock held by another process is waited for with asyncio.sleep, not on the loop.
        self._conn = sqlite3.connect(**kwargs, timeout=0, check_same_thread=False)
        self._conn.row_factory = dict_factory
        self._conn.execute("PRAGMA foreign_keys = 1")
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

    async def _run(self, sql: str, parameters) -> InlineCursor:
        head = sql.lstrip()[:6].upper()
        if head == "COMMIT":
            # The fsync is the one slow step of a write; let the loop serve others meanwhile.
            await asyncio.get_running_loop().run_in_executor(None, self._conn.execute, sql)
            return InlineCursor(self._conn.cursor())
        if self._conn.in_transaction and head != "BEGIN":
            return InlineCursor(self._conn.execute(sql, parameters))
        # BEGIN or a statement in autocommit mode: nothing is held yet, so a locked database can be retried.
        deadline, pause = time.monotonic() + self.lock_wait, 0.001
        while True:
            try:
                return InlineCursor(self._conn.execute(sql, parameters))
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await self._run("COMMIT", ())

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    @property
    def usable(self) -> bool:
        try:
            self._conn.total_changes  # noqa: B018 - raises ProgrammingError once closed
        except sqlite3.ProgrammingError:
            return False
        return True


class PooledSQLiteTransaction(SQLiteTransaction):
    _holds_write_lock = False

    async def get_connection(self):
        return await self.engine.acquire()

    async def begin(self):
        # Writers of this process queue on an asyncio lock (first come, first served) rather than in
        # SQLite's busy handler, which sleeps and polls and gives long tails under load.
        if self.transaction_type != TransactionType.deferred:
            await self.engine.write_lock().acquire()
            self._holds_write_lock = True
        try:
            await super().begin()
        except BaseException:
            self._release_write_lock()
            await self.engine.release(self.connection)
            raise

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self.engine.write_lock().release()

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self.connection.close()
            raise
        else:
            await self.engine.release(self.connection)
        finally:
            self._release_write_lock()
            self.engine.current_transaction.reset(self.context)
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    __slots__ = ("_idle", "_locks")

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[InlineConnection] = []
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def write_lock(self) -> asyncio.Lock:
        """One lock per event loop (asyncio locks belong to the loop that first waits on them)."""
        loop = asyncio.get_running_loop()
        if loop not in self._locks:
            self._locks = {k: v for k, v in self._locks.items() if not k.is_closed()}
            self._locks[loop] = asyncio.Lock()
        return self._locks[loop]

    async def acquire(self) -> InlineConnection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
        return InlineConnection(self)

    async def release(self, connection: InlineConnection) -> None:
        if not connection.usable:
            return
        if connection.in_transaction:  # never hand out a connection with half a transaction on it
            await connection.close()
        elif len(self._idle) < MAX_IDLE:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def get_connection(self):
        return await self.acquire()

    async def _run_in_new_connection(self, query: str, args=None, query_type: str = "generic", table=None):
        connection = await self.acquire()
        try:
            if _reads_only(query):
                rows = await connection.execute_fetchall(query, args or [])
            else:
                # An autocommit write must not collide with a transaction this process holds open.
                async with self.write_lock():
                    rows = await connection.execute_fetchall(query, args or [])
        except BaseException:
            await connection.close()
            raise
        await self.release(connection)
        return rows

    async def _run_in_existing_connection(
        self, connection, query: str, args=None, query_type="generic", table=None
    ):
        return await connection.execute_fetchall(query, args or [])

    def transaction(
        self, transaction_type: TransactionType = TransactionType.immediate, allow_nested: bool = True
    ):
        # IMMEDIATE by default: the transactions piccolo opens itself (migrations) write, and a DEFERRED one
        # would meet another process's lock halfway through, where it cannot simply be retried.
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )
