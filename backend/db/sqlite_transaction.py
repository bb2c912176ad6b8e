"""piccolo's SQLite transaction on the pool: a read snapshot (DEFERRED) on a connection of its own, a write
transaction as one SAVEPOINT of the group-committed batch (sqlite_group_commit.py)."""

from __future__ import annotations

import asyncio
import sqlite3

from piccolo.engine.sqlite import SQLiteTransaction, TransactionType

from backend.db.sqlite_group_commit import GroupCommitWriter, WriteBatch


class PooledSQLiteTransaction(SQLiteTransaction):
    _writer: GroupCommitWriter | None = None
    _batch: WriteBatch | None = None

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        if self.transaction_type == TransactionType.deferred:  # a read snapshot: its own connection
            self.connection = await self.engine.acquire()
            await self.begin()
        else:
            writer = self.engine.writer()
            await writer.lock.acquire()
            try:
                batch = await writer.join()
                await batch.connection.execute("SAVEPOINT writer")
            except BaseException:
                writer.lock.release()
                raise
            self._writer, self._batch, self.connection = writer, batch, batch.connection
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if self._batch is None:
                await self._end_alone(exception)
            else:
                await self._end_in_batch(exception)
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None

    async def _end_alone(self, exception) -> None:
        try:
            if exception:
                await self.rollback()
            else:
                await self.commit()
        except BaseException:
            await self.connection.close()
            raise
        await self.engine.release(self.connection)

    async def _end_in_batch(self, exception) -> None:
        writer, batch, connection = self._writer, self._batch, self.connection
        try:
            if exception:
                await connection.execute("ROLLBACK TO writer")
            await connection.execute("RELEASE writer")
            if not exception:
                batch.members += 1
        except BaseException as exc:
            batch.broken = batch.broken or exc
            raise
        finally:
            if not connection.in_transaction and batch.broken is None:
                # SQLite itself rolled the whole transaction back (a full disk, an I/O error).
                batch.broken = sqlite3.OperationalError("the shared write transaction was rolled back")
            writer.leave(batch)
        if not exception:
            await asyncio.shield(batch.done)  # durable (or failed) with the rest of its batch
