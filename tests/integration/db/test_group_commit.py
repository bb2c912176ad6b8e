"""SQLite write transactions are group-committed: writers that queue together share one COMMIT, each is
durable when its `write_tx()` returns, and a failing writer takes back only its own changes."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from backend.db import sql
from backend.db.engine import engine, is_sqlite, let_writers_finish, write_tx


@pytest.fixture(autouse=True)
def _sqlite_only():
    if not is_sqlite():
        pytest.skip("SQLite only (PostgreSQL commits concurrent transactions itself)")


def _committed_keys(table: str) -> set[str]:
    """What another connection, as another process would, reads back: only committed rows."""
    other = sqlite3.connect(engine().path)
    try:
        return {row[0] for row in other.execute(f"SELECT k FROM {table}")}  # noqa: S608 - test table name
    finally:
        other.close()


async def test_queued_writers_share_commits_and_a_failing_one_takes_back_only_its_own_rows(monkeypatch):
    from backend.db.sqlite_pool import GroupCommitWriter

    await sql.execute("CREATE TABLE IF NOT EXISTS gc_probe (k TEXT PRIMARY KEY)")
    commits = 0
    flush = GroupCommitWriter._flush

    async def counted(self, batch):
        nonlocal commits
        commits += 1
        await flush(self, batch)

    monkeypatch.setattr(GroupCommitWriter, "_flush", counted)
    seen_inside: dict[str, bool] = {}

    async def writer(i: int) -> None:
        async with write_tx():
            await sql.execute("INSERT INTO gc_probe (k) VALUES ($1)", f"w{i}-a")
            seen_inside[f"w{i}"] = f"w{i}-a" in _committed_keys("gc_probe")
            await asyncio.sleep(0)  # let the others queue behind this one
            # Writer 7 collides with writer 3's key: its whole transaction must go, nobody else's.
            await sql.execute("INSERT INTO gc_probe (k) VALUES ($1)", "w3-b" if i == 7 else f"w{i}-b")
        assert {f"w{i}-a", f"w{i}-b"} <= _committed_keys("gc_probe")  # durable on return

    results = await asyncio.gather(*(writer(i) for i in range(30)), return_exceptions=True)

    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [7] and isinstance(results[7], sqlite3.IntegrityError)
    keys = _committed_keys("gc_probe")
    assert "w7-a" not in keys  # rolled back to its savepoint
    assert {f"w{i}-{p}" for i in range(30) if i != 7 for p in "ab"} <= keys
    assert not any(seen_inside.values())  # nothing was visible to others before its commit
    assert 1 <= commits < 30  # the queued writers shared commits (one fsync for many)


async def test_a_failed_commit_fails_every_writer_of_its_batch():
    """A COMMIT that fails (here a deferred foreign key; a full disk would do the same) reports the failure
    to every writer whose changes it carried, and none of those changes stay."""
    await sql.execute("CREATE TABLE IF NOT EXISTS gc_parent (id INTEGER PRIMARY KEY)")
    await sql.execute(
        "CREATE TABLE IF NOT EXISTS gc_child (k TEXT PRIMARY KEY, "
        "parent INTEGER REFERENCES gc_parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    first_in = asyncio.Event()

    async def orphan() -> None:
        async with write_tx():
            await sql.execute("INSERT INTO gc_child (k, parent) VALUES ('orphan', 999)")
            first_in.set()
            await asyncio.sleep(0.05)  # the next writer queues meanwhile and joins this batch

    async def innocent() -> None:
        await first_in.wait()
        async with write_tx():
            await sql.execute("INSERT INTO gc_child (k, parent) VALUES ('innocent', NULL)")

    results = await asyncio.gather(orphan(), innocent(), return_exceptions=True)

    assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
    assert _committed_keys("gc_child") == set()
    async with write_tx():  # the writer recovers: the next batch commits normally
        await sql.execute("INSERT INTO gc_child (k, parent) VALUES ('later', NULL)")
    assert _committed_keys("gc_child") == {"later"}


def _another_service_process(script: str) -> subprocess.Popen:
    """Another process of the service (a worker, the scheduler), running `script`; its output is piped."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )


def _hold_write_lock_in_another_process(seconds: float) -> subprocess.Popen:
    """Takes the write lock as the service does and holds a write."""
    return _another_service_process(
        f"""
        import sqlite3, sys, time
        from backend.db.sqlite_pool import ProcessWriteLock
        import asyncio
        lock = ProcessWriteLock({engine().path!r})
        asyncio.run(lock.acquire(5))
        db = sqlite3.connect({engine().path!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE audit_head SET last_seq = last_seq WHERE id = 1")
        print("held", flush=True)
        time.sleep({seconds})
        db.execute("COMMIT")
        print("released", flush=True)
        lock.release()
        time.sleep(1)
        """
    )


async def test_another_service_process_holding_the_write_lock_is_waited_for_without_stalling_the_loop(
    tmp_path,
):
    """Server workers, the scheduler and the CLI share the write lock through a file lock: a writer here
    waits for the other process's transaction in a thread and goes on the moment it ends."""
    holder = _hold_write_lock_in_another_process(0.4)
    try:
        assert holder.stdout.readline().strip() == "held"
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        tick_task = asyncio.create_task(ticker())
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with write_tx():
            waited = loop.time() - started
            await sql.execute("UPDATE audit_head SET last_seq = last_seq WHERE id = 1")
        done.set()
        await tick_task
        assert holder.stdout.readline().strip() == "released"  # it committed before we were let in
    finally:
        holder.wait(timeout=10)
    assert 0.2 < waited < 3
    assert ticks >= 20  # the loop served other work meanwhile


def _wait_for_write_lock_in_another_process() -> subprocess.Popen:
    """Waits for the write lock and prints when it got it."""
    return _another_service_process(
        f"""
        import asyncio, time
        from backend.db.sqlite_pool import ProcessWriteLock
        lock = ProcessWriteLock({engine().path!r})
        print("waiting", flush=True)
        asyncio.run(lock.acquire(10))
        print(time.time(), flush=True)
        lock.release()
        """
    )


async def test_a_committed_batch_lets_another_process_in_while_this_loop_is_busy():
    """The committing thread passes the write lock on the moment its COMMIT is done: another server
    process does not wait for this loop to finish whatever CPU-heavy step it is in (a 2 ms judgement per
    upload, here 0.6 s). Work that waits with let_writers_finish() starts only once the batch is closed."""
    waiter = _wait_for_write_lock_in_another_process()
    try:
        busy_until = []

        async def heavy_step() -> None:
            await let_writers_finish()
            time.sleep(0.6)  # noqa: ASYNC251 - the loop is held, as by a long computation
            busy_until.append(time.time())

        async with write_tx():
            await sql.execute("UPDATE audit_head SET last_seq = last_seq WHERE id = 1")
            assert waiter.stdout.readline().strip() == "waiting"
            await asyncio.sleep(0.3)  # the other process is now blocked on the lock
            # A task outside this transaction, as another request's would be.
            step = asyncio.create_task(heavy_step(), context=contextvars.Context())
            await asyncio.sleep(0)
            assert not busy_until  # it waits for the open batch
        await step
        got_lock_at = float(waiter.stdout.readline())
    finally:
        waiter.wait(timeout=10)
    assert got_lock_at < busy_until[0] - 0.3, "the other process waited for this loop"
