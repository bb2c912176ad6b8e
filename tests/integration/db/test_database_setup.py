"""The database setup: WAL on SQLite, waiting out another process's lock, UTC timestamps, rows
built from hand-written statements."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.accounts.tables import OtpCode
from backend.core.clock import utcnow
from backend.db.engine import is_sqlite


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


async def test_a_stored_row_is_the_object_piccolo_builds_and_saves_as_an_update():
    from datetime import date

    from backend.accounts.tables import Agency, User
    from backend.db import sql
    from backend.supervision.measures.tables import Measure

    agency = Agency(kind="police", name="Row PSB", region_code="330100")
    await agency.save()
    person = User(role="supervisee", display_name="Row", phone="+8615100009999", agency=agency.id)
    await person.save()
    measure = Measure(
        person=person.id,
        kind="bail",
        legal_basis="art. 67",
        deciding_agency=agency.id,
        executing_agency=agency.id,
        stage="investigation",
        start_date=date.today(),
        end_date=date.today() + timedelta(days=90),
        created_by="test",
    )
    await measure.save()
    row = await sql.fetch_one("SELECT * FROM measures WHERE id = $1", measure.id)

    built = sql.stored(Measure, row)
    assert built.__dict__ == Measure(_exists_in_db=True, **row).__dict__
    built.score = 73
    await built.save([Measure.score])
    assert await Measure.count().where(Measure.id == measure.id) == 1  # updated, not inserted again
    assert (await Measure.select(Measure.score).where(Measure.id == measure.id).first())["score"] == 73
    partial = {"id": measure.id, "score": 1}  # not every column: piccolo's constructor fills in the defaults
    filled = sql.stored(Measure, partial)
    assert filled.__dict__.keys() == Measure(_exists_in_db=True, **partial).__dict__.keys()
    assert filled.score == 1
