"""Login lockout: an attempt is counted before its credentials are judged; the attempt that reaches the limit
locks the subject for 30 s, doubling with each lock until a success.

One row per subject (`login_guards`), and every decision is one statement (an upsert ... RETURNING), so the
counts stay exact when attempts arrive together on any number of processes: of 40 wrong codes sent at once
exactly `max_failures` are judged and the rest are refused (423) without being judged, so the right code
cannot slip in among them once the limit is reached.

`failures` counts the attempts since the last success or lock; while a lock holds, an attempt that is
refused sets it to `max_failures + 1`. That marker is how RETURNING tells a refused attempt from the one
that just reached the limit (which is still judged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.accounts import store
from backend.accounts.tables import LoginGuard
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Locked
from backend.db.engine import write_tx


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: what the guard row looked like right after it was counted."""

    subject: str
    failures: int
    lockouts: int
    locked_until: datetime | None  # the lock: set by this attempt if admitted, else the one that refused it

    def lock_seconds(self) -> int | None:
        if self.locked_until is None:
            return None
        return max(1, round((as_utc(self.locked_until) - utcnow()).total_seconds()))


async def _count(subject: str, max_failures: int, base_seconds: int) -> tuple[Attempt, bool]:
    """Count one attempt. Returns the attempt and whether it may be judged (False: a lock holds)."""
    now = utcnow()
    # A first attempt inserts the row; with a limit of 1 it is also the attempt that locks.
    first_locks = max_failures <= 1
    # Its own transaction where called alone: it survives the request's error.
    async with write_tx(bookkeeping=True):
        row = await store.count_attempt(
            subject,
            max_failures,
            now,
            base_seconds,
            1 if first_locks else 0,
            now + timedelta(seconds=base_seconds) if first_locks else None,
        )
    return Attempt(subject, row["failures"], row["lockouts"], row["locked_until"]), (
        row["failures"] <= max_failures
    )


async def reserve(subject: str, max_failures: int, base_seconds: int) -> Attempt:
    """Count an attempt before judging it; raise Locked, without judging, while the subject is locked.
    Call `succeeded` when the credentials were right: nothing is needed when they were wrong."""
    attempt, admitted = await _count(subject, max_failures, base_seconds)
    if not admitted:
        raise Locked(attempt.lock_seconds() or 1)
    return attempt


async def succeeded(attempt: Attempt) -> None:
    """Forget the subject's failures, unless another attempt was counted after this one: attempts sent
    together with a right one keep counting against the limit instead of getting a fresh allowance."""
    await store.forget_failures(attempt.subject, attempt.failures, attempt.lockouts)


async def locked_for(subject: str) -> int | None:
    """Seconds until the subject's lock ends, or None when it is not locked."""
    guard = await LoginGuard.objects().where(LoginGuard.subject == subject).first()
    if guard and guard.locked_until and as_utc(guard.locked_until) > utcnow():
        return int((as_utc(guard.locked_until) - utcnow()).total_seconds()) + 1
    return None


async def ensure_not_locked(subject: str) -> None:
    if (seconds := await locked_for(subject)) is not None:
        raise Locked(seconds)


async def release(attempt: Attempt, max_failures: int) -> None:
    """Give an attempt back: it was never judged (a face check that could not run, a photo too dark).
    If it was the attempt that locked, the lock it set goes too; a lock set by a later attempt stays."""
    await store.give_back_attempt(
        attempt.subject, attempt.lockouts, max_failures, attempt.locked_until is not None
    )
