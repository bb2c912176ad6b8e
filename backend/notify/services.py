"""Queue notifications (SMS and in-app inbox) and deliver them with retries, respecting quiet hours."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend.core.clock import utcnow
from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import is_sqlite, write_tx

log = logging.getLogger("remotecase.notify")
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class QuietHours:
    start_hour: int = 22
    end_hour: int = 7
    timezone: str = "Asia/Shanghai"

    def next_allowed(self, at: datetime) -> datetime:
        """`at` if outside quiet hours, else the moment quiet hours end (in the person's time zone)."""
        local = at.astimezone(ZoneInfo(self.timezone))
        start, end = self.start_hour, self.end_hour
        quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
        if not quiet:
            return at
        wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
        if wake <= local:
            wake += timedelta(days=1)
        return wake.astimezone(at.tzinfo)


async def enqueue(
    user_id: object,
    kind: str,
    title: str,
    body: str,
    dedupe_key: str,
    *,
    urgent: bool = False,
    sms: bool = True,
    quiet: QuietHours | None = None,
) -> int:
    """Queue an inbox message and, optionally, an SMS. Returns how many were new (0 if already queued)."""
    now = utcnow()
    not_before = now if urgent or quiet is None else quiet.next_allowed(now)
    created = 0
    for channel in ("inbox", "sms") if sms else ("inbox",):
        inbox = channel == "inbox"
        # Code changes raised by location uploads queue these under the write lock: hand-written (see
        # backend.db.sql), and the unique dedupe key makes a repeat a no-op.
        inserted = await sql.fetch_one(
            _QUEUE,
            uuid7(),
            user_id,
            kind,
            channel,
            urgent,
            f"{dedupe_key}:{channel}",
            title,
            body,
            now,
            # The inbox is silent: it is visible at once; only the SMS waits for morning.
            now if inbox else not_before,
            "sent" if inbox else "pending",
            now if inbox else None,
        )
        created += inserted is not None
    return created


_QUEUE = (
    'INSERT INTO notifications (id, "user", kind, channel, urgent, dedupe_key, title, body, created_at, '
    "not_before, status, sent_at, attempts, last_error, read_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, '', NULL) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)


# A claim holds a message for this long: a deliverer that dies mid-send leaves it to be retried after.
CLAIM_LEASE = timedelta(minutes=5)


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


async def deliver_due(sms_sender, limit: int = 200) -> dict[str, int]:
    """Send pending SMS whose time has come; failures back off exponentially and give up after 6 tries.
    Messages are claimed before they are sent, so deliverers running at once never send one twice."""
    now = utcnow()
    async with write_tx():
        claimed = await sql.fetch(_claim_sql(), now, now + CLAIM_LEASE, limit)
    claimed.sort(key=lambda row: str(row["id"]))  # UUIDv7: queue order
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for note in claimed:
        user = await sql.fetch_one("SELECT phone FROM users WHERE id = $1", note["user"])
        status, sent_at, error, not_before = "sent", None, "", now
        try:
            if not user or not user["phone"]:
                raise ValueError("no phone number on the account")
            await sms_sender.send(user["phone"], f"{note['title']}: {note['body']}")
            sent_at = utcnow()
            counts["sent"] += 1
        except Exception as exc:  # any provider failure is recorded and retried, never lost
            error = f"{type(exc).__name__}: {exc}"[:500]
            if note["attempts"] >= MAX_ATTEMPTS:
                status = "failed"
                counts["failed"] += 1
            else:
                status = "pending"
                not_before = utcnow() + timedelta(seconds=30 * 2 ** (note["attempts"] - 1))
                counts["retry"] += 1
            log.warning("sms delivery failed", extra={"notification": str(note["id"]), "error": error})
        async with write_tx():
            await sql.execute(_SETTLE, note["id"], note["attempts"], status, sent_at, error, not_before)
    return counts
