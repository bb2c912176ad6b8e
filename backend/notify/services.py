"""Queue notifications (SMS and in-app inbox) and deliver them with retries, respecting quiet hours.

Delivery claims each due SMS before sending it (a claim lease; SKIP LOCKED on PostgreSQL), so deliverers
running side by side never send one message twice. A transient failure (rate limit, provider fault,
network) is never the end of a message: it is tried again after an exponential backoff, capped, with
random jitter so that messages failed together are not retried together. A permanent one (no number, a
number the provider refuses) is marked `failed` at once with the provider's error: resending cannot cure it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend.core.clock import utcnow
from backend.db.engine import write_tx
from backend.notify import store
from backend.ops.sms import SmsUndeliverable, is_permanent

log = logging.getLogger("remotecase.notify")
RETRY_BASE = timedelta(seconds=30)  # the first retry's backoff, doubled on each further attempt
RETRY_CAP = timedelta(minutes=30)  # the backoff grows no further than this
_jitter = random.SystemRandom()


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed try a message is tried again: the capped exponential
    backoff plus up to half as much again at random."""
    backoff = min(RETRY_CAP, RETRY_BASE * 2 ** min(attempts - 1, 20))
    return backoff + backoff * _jitter.uniform(0, 0.5)


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
        # Code changes raised by location uploads queue these under the write lock: hand-written
        # (backend.notify.store), and the unique dedupe key makes a repeat a no-op.
        inserted = await store.queue(
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
        created += inserted
    return created


# A claim holds a message for this long: a deliverer that dies mid-send leaves it to be retried after.
CLAIM_LEASE = timedelta(minutes=5)


async def deliver_due(sms_sender, limit: int = 200) -> dict[str, int]:
    """Send pending SMS whose time has come; a transient failure is retried later (backoff with jitter),
    a permanent one is marked failed at once. Messages are claimed before they are sent, so deliverers
    running at once never send one twice."""
    now = utcnow()
    async with write_tx():
        claimed = await store.claim_due_sms(now, now + CLAIM_LEASE, limit)
    claimed.sort(key=lambda row: str(row["id"]))  # UUIDv7: queue order
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for note in claimed:
        phone = await store.phone_of(note["user"])
        status, sent_at, error, not_before = "sent", None, "", now
        try:
            if not phone:
                raise SmsUndeliverable("no phone number on the account")
            await sms_sender.send(phone, f"{note['title']}: {note['body']}")
            sent_at = utcnow()
            counts["sent"] += 1
        except Exception as exc:  # every failure is recorded; only a permanent one ends the message
            error = _described(exc)
            if is_permanent(exc):
                status = "failed"
                counts["failed"] += 1
            else:
                status, not_before = "pending", utcnow() + retry_delay(note["attempts"])
                counts["retry"] += 1
            log.warning(
                "sms delivery failed",
                extra={"notification": str(note["id"]), "error": error, "final": status == "failed"},
            )
        async with write_tx():
            await store.settle(note["id"], note["attempts"], status, sent_at, error, not_before)
    return counts


def _described(exc: Exception) -> str:
    """The error as stored in last_error: with the provider's HTTP status and error code when it gave one."""
    status, code = getattr(exc, "status", None), getattr(exc, "code", None)
    provider = f" (status {status}, code {code})" if status or code else ""
    message = getattr(exc, "msg", None) or str(exc)
    return f"{type(exc).__name__}{provider}: {message}"[:500]
