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
import os
import sqlite3
import threading
import time
from typing import Any

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's own lock and the back-off remain
    fcntl = None

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from backend.db import sqlite_types

sqlite_types.install()

MAX_IDLE = 8
_LOCKED = ("database is locked", "database table is locked")


def _is_locked(exc: sqlite3.OperationalError) -> bool:
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
                if not _is_locked(exc) or time.monotonic() > deadline:
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


class ProcessWriteLock:
    """The write lock between processes (server workers, the scheduler, the CLI): an flock on a file beside
    the database. Waiting happens in a worker thread, so the loop goes on, and the lock passes on the
    moment it is released instead of at the next poll of SQLite's busy handler."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}.writelock"
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if fcntl is None:
            return None
        if self._pid != os.getpid():  # a forked worker opens its own descriptor
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    async def acquire(self, wait_s: float) -> None:
        fd = self._file()
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        guard, state = threading.Lock(), {"abandoned": False, "held": False}

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if state["abandoned"]:  # the waiter gave up meanwhile: pass the lock straight on
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:
                    state["held"] = True

        waiting = asyncio.get_running_loop().run_in_executor(None, wait)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), wait_s)
        except BaseException as exc:
            with guard:
                state["abandoned"] = True
                if state["held"]:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            if isinstance(exc, TimeoutError):
                raise sqlite3.OperationalError("database is locked") from None
            raise

    def release(self) -> None:
        fd = self._file()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


class _Batch:
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
        self.batch: _Batch | None = None

    async def join(self) -> _Batch:
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
        self.batch = _Batch(connection)
        return self.batch

    def leave(self, batch: _Batch) -> None:
        if batch.flush is None:
            batch.flush = asyncio.get_running_loop().create_task(self._flush(batch))
        self.lock.release()

    async def drained(self) -> None:
        """Wait until the open batch (if any) takes no more writers (engine.let_writers_finish)."""
        if self.batch is not None:
            await self.batch.closed

    def _pass_lock_on(self, batch: _Batch) -> None:
        # In the committing thread: the database is free again, so other processes need not wait for this
        # loop to get round to the rest of _flush.
        self.engine.process_lock.release()
        batch.unlocked = True

    async def _flush(self, batch: _Batch) -> None:
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


class PooledSQLiteTransaction(SQLiteTransaction):
    _writer: GroupCommitWriter | None = None
    _batch: _Batch | None = None

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
            if _is_locked(exc):
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
