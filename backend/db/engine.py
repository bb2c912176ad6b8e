"""Database engine selection and transaction helpers.

SQLite is the embedded default: one file, WAL so readers never block the writer, and IMMEDIATE write
transactions so two writers queue on the lock instead of failing halfway with SQLITE_BUSY.
PostgreSQL is used when DATABASE_URL says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.db.sqlite_pool import PooledSQLiteEngine


def make_engine(url: str) -> Engine:
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # timeout = how long a writer waits for the lock (sqlite busy timeout), in seconds.
        return PooledSQLiteEngine(path=str(path), timeout=30)
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url.split(':')[0]!r}")


_engine: Engine | None = None


def engine() -> Engine:
    """The engine named by PICCOLO_CONF, looked up once per process (piccolo's finder re-imports the
    configuration module on every call, which the hot paths cannot afford)."""
    global _engine
    if _engine is None:
        _engine = engine_finder()
        if _engine is None:
            raise RuntimeError("No piccolo engine configured (PICCOLO_CONF)")
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


_after_commit: ContextVar[list | None] = ContextVar("after_commit", default=None)
# Run as the last statement of every outermost write transaction in this context (an idempotent request
# marks its claim applied in the same transaction as its state change; backend.web.idempotency).
_commit_hook: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar("commit_hook", default=None)


@asynccontextmanager
async def write_tx(*, bookkeeping: bool = False):
    """One transaction per state change. Nested calls join the outer transaction; callbacks registered
    with `after_commit` run once the outermost one has committed (live pushes must not announce data that
    a rollback would take back).

    `bookkeeping=True` marks a transaction that only counts the request (a login attempt, a rate-limit
    hit): it commits whatever the request's outcome, and it is not the request's state change, so it does
    not mark an idempotent request applied (a keyed check-in refused 423 by its face guard must run again
    on its retry, not replay the 423)."""
    db = engine()
    outer = db.current_transaction.get() is None
    token = _after_commit.set([]) if outer else None
    try:
        if isinstance(db, SQLiteEngine):
            tx = db.transaction(transaction_type=TransactionType.immediate)
        else:
            tx = db.transaction()
        async with tx as current:
            yield current
            if outer and not bookkeeping and (hook := _commit_hook.get()) is not None:
                await hook()  # inside the transaction (SQLite: the writer's savepoint): a rollback undoes it
        callbacks = _after_commit.get() if outer else []
    finally:
        if token is not None:
            _after_commit.reset(token)
    for callback in callbacks or []:
        await callback()


async def let_writers_finish() -> None:
    """Call before a CPU-heavy step that does not write (judging an upload). On SQLite the open write batch
    holds the database's one write lock, and its writers run between the loop's other steps: a 2 ms
    judgement run in between keeps every other server process waiting for the lock that long. Waiting
    here lets the batch's writers run back to back first. A no-op on PostgreSQL."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        await db.writer().drained()


def set_commit_hook(hook: Callable[[], Awaitable[None]] | None):
    """Make `hook` the last statement of each outermost write_tx() in the current context; returns the
    token for `reset_commit_hook`."""
    return _commit_hook.set(hook)


def reset_commit_hook(token) -> None:
    _commit_hook.reset(token)


def after_commit(callback: Callable[[], Awaitable[None]]) -> None:
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit() outside write_tx()")
    pending.append(callback)


async def open_database() -> None:
    db = engine()
    if isinstance(db, SQLiteEngine):
        # WAL is a property of the file; setting it once per start is cheap and idempotent.
        await db.run_ddl("PRAGMA journal_mode=WAL")
    else:
        await db.start_connection_pool(min_size=2, max_size=20, reset=_keep_session)


async def _keep_session(connection) -> None:
    """asyncpg's default reset sends `RESET ALL; UNLISTEN *; ...` on every release to the pool: one more
    round trip per statement run outside a transaction. This service keeps no session state (no SET,
    LISTEN, advisory locks or open cursors), and asyncpg still rolls back a transaction left open."""


async def close_database() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close_idle()


async def ping() -> None:
    await engine().run_ddl("SELECT 1")
