"""Sliding-window rate limits kept in the database, so they hold across processes and restarts."""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import as_utc, utcnow
from backend.core.errors import RateLimited
from backend.ops.tables import RateHit


async def hit(bucket: str, key: str, limit: int, window_seconds: int, what: str = "requests") -> None:
    """Count one hit for (bucket, key); raise RateLimited if `limit` hits already fell in the window."""
    now = utcnow()
    since = now - timedelta(seconds=window_seconds)
    recent = (
        await RateHit.select(RateHit.at)
        .where((RateHit.key == key) & (RateHit.bucket == bucket) & (RateHit.at > since))
        .order_by(RateHit.at)
    )
    if len(recent) >= limit:
        oldest = as_utc(recent[-limit]["at"])
        retry = max(1, int((oldest + timedelta(seconds=window_seconds) - now).total_seconds()) + 1)
        raise RateLimited(retry, what)
    await RateHit.insert(RateHit(bucket=bucket, key=key, at=now))


async def purge_older_than(seconds: int) -> int:
    cutoff = utcnow() - timedelta(seconds=seconds)
    gone = await RateHit.delete().where(RateHit.at < cutoff).returning(RateHit.id)
    return len(gone)
