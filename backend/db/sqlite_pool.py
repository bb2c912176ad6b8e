"""piccolo's SQLite engine with reusable connections.

Stock piccolo opens a new aiosqlite connection (a new thread) for every query outside a transaction and for
every transaction, and re-sends `PRAGMA foreign_keys` before every statement inside one. On the check-in path
that is most of the cost. Here idle connections are kept (foreign keys switched on once, when opened) and
handed out one query or one transaction at a time; SQLite's own locking still orders the writers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

MAX_IDLE = 8


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
        self._idle: list[aiosqlite.Connection] = []
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def write_lock(self) -> asyncio.Lock:
        """One lock per event loop (asyncio locks belong to the loop that first waits on them)."""
        loop = asyncio.get_running_loop()
        if loop not in self._locks:
            self._locks = {k: v for k, v in self._locks.items() if not k.is_closed()}
            self._locks[loop] = asyncio.Lock()
        return self._locks[loop]

    async def acquire(self) -> aiosqlite.Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection._running and connection._connection is not None:
                return connection
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
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
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
        except BaseException:
            await connection.close()
            raise
        await self.release(connection)
        return rows

    async def _run_in_existing_connection(
        self, connection, query: str, args=None, query_type="generic", table=None
    ):
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ):
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )
