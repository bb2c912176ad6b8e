"""Queue notifications (SMS and in-app inbox) and deliver them with retries, respecting quiet hours."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend.core.clock import utcnow
from backend.core.ids import uuid7
from backend.db import sql
from backend.notify.tables import Notification

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


async def deliver_due(sms_sender, limit: int = 200) -> dict[str, int]:
    """Send pending SMS whose time has come; failures back off exponentially and give up after 6 tries."""
    from backend.accounts.tables import User

    now = utcnow()
    due = await (
        Notification.objects()
        .where(
            (Notification.status == "pending")
            & (Notification.channel == "sms")
            & (Notification.not_before <= now)
        )
        .order_by(Notification.not_before)
        .limit(limit)
    )
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for note in due:
        user = await User.objects().where(User.id == note.user).first()
        note.attempts += 1
        try:
            if not user or not user.phone:
                raise ValueError("no phone number on the account")
            await sms_sender.send(user.phone, f"{note.title}: {note.body}")
            note.status, note.sent_at = "sent", utcnow()
            counts["sent"] += 1
        except Exception as exc:  # any provider failure is recorded and retried, never lost
            note.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if note.attempts >= MAX_ATTEMPTS:
                note.status = "failed"
                counts["failed"] += 1
            else:
                note.not_before = utcnow() + timedelta(seconds=30 * 2 ** (note.attempts - 1))
                counts["retry"] += 1
            log.warning("sms delivery failed", extra={"notification": str(note.id), "error": note.last_error})
        await note.save(
            [
                Notification.attempts,
                Notification.status,
                Notification.sent_at,
                Notification.last_error,
                Notification.not_before,
            ]
        )
    return counts
