"""The maintenance sweep the scheduler runs, and the scheduler's fixed job ids."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import OtpCode
from backend.core.clock import utcnow
from backend.jobs import JOBS, build_scheduler
from backend.ops.maintenance import purge_expired
from backend.ops.tables import IdempotencyRecord, RateHit


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
