"""Every hand-written statement of notifications: queueing, claiming due SMS, settling a claim.

Code changes raised by location uploads queue messages under the write lock, so these are hand-written
(see backend.db.sql).
"""

from __future__ import annotations

from datetime import datetime

from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import is_sqlite

_QUEUE = (
    'INSERT INTO notifications (id, "user", kind, channel, urgent, dedupe_key, title, body, created_at, '
    "not_before, status, sent_at, attempts, last_error, read_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, '', NULL) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)


def _claim_sql() -> str:
    # The claim takes due messages (pending, or claimed by a deliverer whose lease ran out) in one
    # statement. On PostgreSQL, SKIP LOCKED lets two deliverers claim disjoint rows side by side; on
    # SQLite the statement runs under the single writer. `attempts` + 1 identifies this claim.
    skip = "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"
    return (
        "UPDATE notifications SET status = 'sending', not_before = $2, attempts = attempts + 1 "  # noqa: S608
        "WHERE id IN (SELECT id FROM notifications "
        "WHERE status IN ('pending', 'sending') AND channel = 'sms' AND not_before <= $1 "
        f"ORDER BY not_before LIMIT $3{skip}) "
        'RETURNING id, "user", title, body, attempts'
    )


# Settles a claim, unless its lease ran out and another deliverer claimed the message since.
_SETTLE = (
    "UPDATE notifications SET status = $3, sent_at = $4, last_error = $5, not_before = $6 "
    "WHERE id = $1 AND attempts = $2 AND status = 'sending'"
)


async def queue(
    user_id: object,
    kind: str,
    channel: str,
    urgent: bool,
    dedupe_key: str,
    title: str,
    body: str,
    now: datetime,
    not_before: datetime,
    status: str,
    sent_at: datetime | None,
) -> bool:
    """Insert one message; False when its dedupe key is already queued (a repeat is a no-op)."""
    inserted = await sql.fetch_one(
        _QUEUE,
        uuid7(),
        user_id,
        kind,
        channel,
        urgent,
        dedupe_key,
        title,
        body,
        now,
        not_before,
        status,
        sent_at,
    )
    return inserted is not None


async def claim_due_sms(now: datetime, lease_until: datetime, limit: int) -> list[dict]:
    """Claim up to `limit` due SMS until `lease_until`: id, user, title, body, attempts (the claim's)."""
    return await sql.fetch(_claim_sql(), now, lease_until, limit)


async def phone_of(user_id: object) -> str | None:
    user = await sql.fetch_one("SELECT phone FROM users WHERE id = $1", user_id)
    return user["phone"] if user else None


async def settle(
    note_id: object,
    attempts: int,
    status: str,
    sent_at: datetime | None,
    error: str,
    not_before: datetime,
) -> None:
    await sql.execute(_SETTLE, note_id, attempts, status, sent_at, error, not_before)
