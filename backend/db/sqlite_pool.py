"""piccolo's SQLite engine, run on the event loop's own thread with reusable connections.

Stock piccolo goes through aiosqlite: a new connection (and thread) per query or transaction, and a thread
hop of about 150 us per statement, which is far more than the statement itself (5-20 us on an indexed,
local WAL file). Here statements run inline on sqlite3 connections kept in a small pool, and only what
really waits leaves the loop:

- a COMMIT (an fsync of the WAL with synchronous=FULL) runs in a worker thread, so other requests go on;
- write transactions are group-committed: the writers that queue while one COMMIT's fsync runs share the
  next transaction, each in its own SAVEPOINT, and one fsync makes them all durable (GroupCommitWriter);
- waiting for the write lock never blocks the loop: this process's writers queue on an asyncio lock (first
  come, first served), other processes of the service (workers, the scheduler, the CLI) on an flock beside
  the database that is waited for in a thread; a lock held by anything else (a sqlite3 shell) is retried
  with an async back-off instead of SQLite's busy handler, which would sleep on the loop thread.

The cost is that a slow statement (a full-table report) holds the loop while it runs; keep those paged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.db import sqlite_types
from backend.db.sqlite_connection import InlineConnection, is_locked, reads_only
from backend.db.sqlite_group_commit import GroupCommitWriter
from backend.db.sqlite_transaction import PooledSQLiteTransaction
from backend.db.sqlite_write_lock import ProcessWriteLock

sqlite_types.install()

# The pieces live beside this module (sqlite_connection, sqlite_write_lock, sqlite_group_commit,
# sqlite_transaction); these names stay importable from here.
__all__ = [
    "GroupCommitWriter",
    "PooledSQLiteEngine",
    "PooledSQLiteTransaction",
    "ProcessWriteLock",
    "reads_only",
]

MAX_IDLE = 8


class PooledSQLiteEngine(SQLiteEngine):
    __slots__ = ("_idle", "_writers", "process_lock", "lock_wait")

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[InlineConnection] = []
        self._writers: dict[asyncio.AbstractEventLoop, GroupCommitWriter] = {}
        self.process_lock = ProcessWriteLock(path)
        self.lock_wait = float(connection_kwargs.get("timeout", 30))

    def writer(self) -> GroupCommitWriter:
        """One per event loop (asyncio locks and futures belong to the loop that first uses them)."""
        loop = asyncio.get_running_loop()
        if loop not in self._writers:
            self._writers = {k: v for k, v in self._writers.items() if not k.is_closed()}
            self._writers[loop] = GroupCommitWriter(self)
        return self._writers[loop]

    async def acquire(self) -> InlineConnection:
        return self._take_idle()

    def _take_idle(self) -> InlineConnection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
        return InlineConnection(self)

    async def release(self, connection: InlineConnection) -> None:
        self._put_back(connection)

    def _put_back(self, connection: InlineConnection) -> None:
        if not connection.usable:
            return
        if connection.in_transaction:  # never hand out a connection with half a transaction on it
            connection.close_now()
        elif len(self._idle) < MAX_IDLE:
            self._idle.append(connection)
        else:
            connection.close_now()

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def get_connection(self):
        return await self.acquire()

    async def _run_in_new_connection(self, query: str, args=None, query_type: str = "generic", table=None):
        if not reads_only(query):
            # A lone write joins the next batch like any write transaction (SQLite has one writer).
            async with self.transaction() as tx:
                return await tx.connection.execute_fetchall(query, args or [])
        connection = await self.acquire()
        try:
            rows = await connection.execute_fetchall(query, args or [])
        except BaseException:
            await connection.close()
            raise
        await self.release(connection)
        return rows

    def read_now(self, sql: str, parameters) -> list | None:
        """A read in autocommit mode on an idle connection, without a coroutine; None when the database is
        locked, for the caller to take the retrying path (rare in WAL mode, where writers never block readers;
        a recovery or a program holding the database exclusively can)."""
        connection = self._take_idle()
        try:
            rows = connection.fetch_now(sql, parameters)
        except sqlite3.OperationalError as exc:
            connection.close_now()
            if is_locked(exc):
                return None
            raise
        except BaseException:
            connection.close_now()
            raise
        self._put_back(connection)
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
