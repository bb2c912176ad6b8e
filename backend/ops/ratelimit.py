"""Sliding-window rate limits kept in the database, so they hold across processes and restarts.

A hit is admitted by counting the window's earlier hits and adding its own: a read then a write, which two
requests at once would both pass. So each (bucket, key) is decided under a lock held to the end of the
transaction: on PostgreSQL a transaction-scoped advisory lock on the pair (concurrent deciders of the same
pair queue there, others are unaffected); on SQLite the write transaction itself, which is IMMEDIATE and
so already one at a time. Of 10 code requests at once with a limit of 1, exactly one is admitted.
"""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import as_utc, utcnow
from backend.core.errors import RateLimited
from backend.db.engine import write_tx
from backend.ops import store
from backend.ops.tables import RateHit


async def hit(bucket: str, key: str, limit: int, window_seconds: int, what: str = "requests") -> None:
    """Count one hit for (bucket, key); raise RateLimited if `limit` hits already fell in the window.
    Inside a caller's write transaction the hit joins it (a later refusal there takes it back)."""
    async with write_tx(bookkeeping=True):
        # Held until the transaction ends, so the count below already includes every hit admitted
        # before this one.
        await store.lock_rate_key(bucket, key)
        now = utcnow()
        recent = await store.recent_hits(bucket, key, now - timedelta(seconds=window_seconds), limit)
        if len(recent) >= limit:
            oldest = as_utc(recent[-1]["at"])  # the oldest of the last `limit` hits leaves the window first
            retry = max(1, int((oldest + timedelta(seconds=window_seconds) - now).total_seconds()) + 1)
            raise RateLimited(retry, what)
        await store.add_hit(bucket, key, now)


async def purge_older_than(seconds: int) -> int:
    cutoff = utcnow() - timedelta(seconds=seconds)
    gone = await RateHit.delete().where(RateHit.at < cutoff).returning(RateHit.id)
    return len(gone)
