"""The database setup and the maintenance sweep the scheduler runs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.accounts.tables import OtpCode
from backend.core.clock import utcnow
from backend.db.engine import is_sqlite
from backend.jobs import JOBS, build_scheduler
from backend.ops.maintenance import purge_expired
from backend.ops.tables import IdempotencyRecord, RateHit


async def test_sqlite_runs_in_wal_mode():
    if not is_sqlite():
        pytest.skip("SQLite only")
    rows = await OtpCode.raw("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"


async def test_sqlite_waits_for_another_process_lock_without_stalling_other_requests():
    """SQLite runs on the event loop: while another process (the scheduler) holds the write lock, reads still
    answer, a writer waits its turn asynchronously, and the loop keeps serving meanwhile."""
    import asyncio
    import sqlite3

    from backend.db import sql
    from backend.db.engine import engine, write_tx

    if not is_sqlite():
        pytest.skip("SQLite only")
    other = sqlite3.connect(engine().path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = asyncio.Event()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while not released.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")
        released.set()

    try:
        assert await sql.fetch_one("SELECT 1 AS one") == {"one": 1}  # WAL: readers never wait
        tasks = [asyncio.create_task(ticker()), asyncio.create_task(release_later())]
        async with write_tx():
            assert released.is_set()  # the write lock was only granted once the other process let go
            await sql.execute("UPDATE audit_head SET last_seq = last_seq WHERE id = 1")
        await asyncio.gather(*tasks)
    finally:
        other.close()
    assert ticks >= 10  # the loop ran other work while the writer waited (a blocked loop ticks once)


async def test_timestamps_come_back_in_utc():
    code = OtpCode(phone="+8613900000000", code_hash="x" * 64, expires_at=utcnow() + timedelta(minutes=5))
    await code.save()
    stored = await OtpCode.objects().where(OtpCode.id == code.id).first()
    assert stored.created_at.utcoffset() == timedelta(0)
    assert abs((stored.expires_at - code.expires_at).total_seconds()) < 0.001
    await OtpCode.delete().where(OtpCode.id == code.id)


async def test_purge_forgets_expired_records_and_keeps_live_ones():
    now = utcnow()
    old = OtpCode(phone="+8613900000001", code_hash="a" * 64, expires_at=now - timedelta(minutes=1))
    live = OtpCode(phone="+8613900000001", code_hash="b" * 64, expires_at=now + timedelta(minutes=5))
    await OtpCode.insert(old, live)
    await RateHit.insert(RateHit(bucket="t", key="purge-test", at=now - timedelta(days=2)))
    await IdempotencyRecord.insert(
        IdempotencyRecord(
            scoped_key="x:purge-test", request_hash="0" * 64, created_at=now - timedelta(days=2)
        )
    )
    counts = await purge_expired()
    assert counts["otp_codes"] >= 1 and counts["rate_hits"] >= 1 and counts["idempotency_records"] >= 1
    assert not await OtpCode.exists().where(OtpCode.id == old.id)
    assert await OtpCode.exists().where(OtpCode.id == live.id)
    assert not await RateHit.exists().where(RateHit.key == "purge-test")


async def test_scheduler_registers_each_job_once_with_a_fixed_id(app):
    scheduler = build_scheduler(app.state.services)
    ids = [job.id for job in scheduler.get_jobs()]
    assert ids == [job_id for job_id, _, _ in JOBS] + ["notify.deliver", "face.purge_ended"]
    assert len(ids) == len(set(ids))
