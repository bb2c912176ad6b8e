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
from functools import lru_cache

from backend.accounts.tables import LoginGuard
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Locked
from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import is_sqlite, write_tx

MAX_DOUBLINGS = 20  # 30 s * 2**20 is a year: beyond that the lock stops growing (and the integer with it)


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


def _lock_end(sqlite: bool) -> str:
    """SQL for `now ($4) + base ($5) * 2**lockouts` seconds, in the column's stored form on each database."""
    doublings = f"CASE WHEN g.lockouts > {MAX_DOUBLINGS} THEN {MAX_DOUBLINGS} ELSE g.lockouts END"
    seconds = f"($5 * (1 << ({doublings})))"
    if sqlite:
        # piccolo stores timestamps as str(datetime) in UTC; SQLite's own functions keep milliseconds.
        return f"strftime('%Y-%m-%d %H:%M:%f', $4, '+' || {seconds} || ' seconds') || '000+00:00'"
    return f"($4::timestamptz + make_interval(secs => {seconds}))"


@lru_cache(maxsize=2)
def _count_sql(sqlite: bool) -> str:
    locked = "g.locked_until > $4"
    # The count this attempt makes when the subject is not locked: a lock that has run out starts afresh.
    following = "(CASE WHEN g.locked_until IS NOT NULL THEN 1 ELSE g.failures + 1 END)"
    return (
        "INSERT INTO login_guards AS g (id, subject, failures, lockouts, locked_until, updated_at) "  # noqa: S608 - constants
        "VALUES ($1, $2, 1, $6, $7, $4) "
        "ON CONFLICT (subject) DO UPDATE SET "
        f"failures = CASE WHEN {locked} THEN $3 + 1 ELSE {following} END, "
        f"lockouts = CASE WHEN {locked} THEN g.lockouts "
        f"WHEN {following} >= $3 THEN g.lockouts + 1 ELSE g.lockouts END, "
        f"locked_until = CASE WHEN {locked} THEN g.locked_until "
        f"WHEN {following} >= $3 THEN {_lock_end(sqlite)} ELSE NULL END, "
        "updated_at = $4 "
        "RETURNING failures, lockouts, locked_until"
    )


async def _count(subject: str, max_failures: int, base_seconds: int) -> tuple[Attempt, bool]:
    """Count one attempt. Returns the attempt and whether it may be judged (False: a lock holds)."""
    now = utcnow()
    # A first attempt inserts the row; with a limit of 1 it is also the attempt that locks.
    first_locks = max_failures <= 1
    # Its own transaction where called alone: it survives the request's error.
    async with write_tx(bookkeeping=True):
        row = await sql.fetch_one(
            _count_sql(is_sqlite()),
            uuid7(),
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
    await sql.execute(
        "DELETE FROM login_guards WHERE subject = $1 AND failures = $2 AND lockouts = $3",
        attempt.subject,
        attempt.failures,
        attempt.lockouts,
    )


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
    await sql.execute(
        "UPDATE login_guards SET "
        "failures = CASE WHEN locked_until IS NULL THEN failures - 1 ELSE $3 - 1 END, "
        "lockouts = CASE WHEN locked_until IS NULL THEN lockouts ELSE lockouts - 1 END, "
        "locked_until = NULL "
        "WHERE subject = $1 AND failures > 0 AND (locked_until IS NULL OR (lockouts = $2 AND $4))",
        attempt.subject,
        attempt.lockouts,
        max_failures,
        attempt.locked_until is not None,
    )
