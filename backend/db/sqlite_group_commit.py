"""Group commit: the write transactions that queue while one COMMIT's fsync runs share the next SQLite
transaction, each in its own SAVEPOINT, and one fsync makes them all durable."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.db.sqlite_connection import InlineConnection
    from backend.db.sqlite_pool import PooledSQLiteEngine


class WriteBatch:
    """One SQLite transaction shared by the write transactions that queued for it: one COMMIT (one fsync)
    makes all of them durable together."""

    __slots__ = ("connection", "done", "closed", "members", "broken", "flush", "unlocked")

    def __init__(self, connection: InlineConnection) -> None:
        self.connection = connection
        self.done = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()  # set once no more writers can join
        self.members = 0
        self.broken: BaseException | None = None
        self.flush: asyncio.Task | None = None
        self.unlocked = False  # the process lock was already passed on by the committing thread


class GroupCommitWriter:
    """This loop's writers: they queue on an asyncio lock (first come, first served), each runs in its own
    SAVEPOINT of the open batch, and a flush queued behind the writers waiting at that moment commits them
    all at once. While that COMMIT's fsync runs, the next batch gathers.

    A writer's `async with` returns only after its batch is durable; a writer that fails rolls back to its
    savepoint and leaves the others be; a failed COMMIT fails every writer of the batch."""

    def __init__(self, engine: PooledSQLiteEngine) -> None:
        self.engine = engine
        self.lock = asyncio.Lock()
        self.batch: WriteBatch | None = None

    async def join(self) -> WriteBatch:
        """The open batch, or a new one (this loop's lock must be held)."""
        if self.batch is not None:
            return self.batch
        engine = self.engine
        await engine.process_lock.acquire(engine.lock_wait)
        try:
            connection = await engine.acquire()
            try:
                await connection.execute("BEGIN IMMEDIATE")
            except BaseException:
                await connection.close()
                raise
        except BaseException:
            engine.process_lock.release()
            raise
        self.batch = WriteBatch(connection)
        return self.batch

    def leave(self, batch: WriteBatch) -> None:
        if batch.flush is None:
            batch.flush = asyncio.get_running_loop().create_task(self._flush(batch))
        self.lock.release()

    async def drained(self) -> None:
        """Wait until the open batch (if any) takes no more writers (engine.let_writers_finish)."""
        if self.batch is not None:
            await self.batch.closed

    def _pass_lock_on(self, batch: WriteBatch) -> None:
        # In the committing thread: the database is free again, so other processes need not wait for this
        # loop to get round to the rest of _flush.
        self.engine.process_lock.release()
        batch.unlocked = True

    async def _flush(self, batch: WriteBatch) -> None:
        async with self.lock:  # behind every writer that was already waiting: they join this batch
            self.batch = None
            connection = batch.connection
            try:
                if batch.broken is not None:
                    raise batch.broken
                if batch.members:
                    commit = connection.commit(lambda: self._pass_lock_on(batch))
                    batch.closed.set_result(None)  # after the COMMIT is under way, not before
                    try:
                        await asyncio.shield(commit)
                    except asyncio.CancelledError:
                        # Shutting down mid-fsync: the COMMIT runs on in its thread; let it finish before
                        # the connection is touched again, and report what it did.
                        await asyncio.wait([commit])
                        commit.result()
                else:
                    await connection.rollback()
            except BaseException as exc:  # noqa: BLE001 - handed to every writer of the batch
                await connection.close()
                if not batch.done.done():
                    batch.done.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            else:
                await self.engine.release(connection)
                batch.done.set_result(None)
            finally:
                if not batch.closed.done():
                    batch.closed.set_result(None)
                if not batch.unlocked:
                    self.engine.process_lock.release()
