"""Rate buckets and the outbox under concurrency, in process: hits and deliverers run side by side on the
database's own connections (PostgreSQL runs them truly at once; SQLite serialises its writers).

Before the fix a bucket was counted by a SELECT and then an INSERT, so hits at once all saw room; and two
deliverers both read the same pending messages and both sent them."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from backend.accounts.tables import User
from backend.core.clock import utcnow
from backend.core.errors import RateLimited
from backend.notify import services as notify
from backend.notify.tables import Notification
from backend.ops import ratelimit
from backend.ops.tables import RateHit
from tests.support.api import random_phone


async def _admitted(bucket: str, key: str, limit: int, window: int, hits: int) -> Counter:
    async def one() -> str:
        try:
            await ratelimit.hit(bucket, key, limit, window)
        except RateLimited as refused:
            assert refused.retry_after >= 1
            return "refused"
        return "admitted"

    return Counter(await asyncio.gather(*(one() for _ in range(hits))))


@pytest.mark.parametrize(("limit", "hits"), [(1, 10), (3, 20)])
async def test_concurrent_hits_admit_exactly_the_limit(client, limit, hits):
    key = f"race-{uuid.uuid4()}"
    assert await _admitted("race", key, limit, 60, hits) == {"admitted": limit, "refused": hits - limit}
    assert await RateHit.count().where((RateHit.key == key) & (RateHit.bucket == "race")) == limit
    # Another bucket of the same key, and another key, have their own counts.
    assert (await _admitted("race-other", key, limit, 60, 2))["admitted"] == min(limit, 2)
    assert (await _admitted("race", f"{key}-b", limit, 60, 2))["admitted"] == min(limit, 2)


async def test_a_hit_leaves_the_window_and_makes_room(client):
    key = f"race-{uuid.uuid4()}"
    assert (await _admitted("race", key, 2, 60, 5))["admitted"] == 2
    await RateHit.update({RateHit.at: utcnow() - timedelta(seconds=61)}).where(RateHit.key == key)
    assert await _admitted("race", key, 2, 60, 5) == {"admitted": 2, "refused": 3}


class _SlowRecorder:
    """An SMS sender that takes a while per message, so two deliverers overlap."""

    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, to: str, body: str) -> None:
        await asyncio.sleep(0.01)
        self.sent.append(body)


async def _person() -> User:
    user = User(role="citizen", phone=random_phone(), display_name="", created_at=utcnow())
    await user.save()
    return user


async def test_two_deliverers_at_once_send_each_message_exactly_once(client):
    user = await _person()
    tag = uuid.uuid4().hex
    for n in range(12):
        await notify.enqueue(user.id, "test", f"race {tag}", f"message {n}", f"race:{tag}:{n}", urgent=True)
    sender = _SlowRecorder()
    await asyncio.gather(notify.deliver_due(sender), notify.deliver_due(sender))
    ours = Counter(body for body in sender.sent if tag in body)
    assert ours == {f"race {tag}: message {n}": 1 for n in range(12)}
    statuses = await Notification.select(Notification.status).where(
        (Notification.user == user.id) & (Notification.channel == "sms")
    )
    assert [row["status"] for row in statuses] == ["sent"] * 12


async def test_a_claim_whose_lease_ran_out_is_delivered_again_and_a_live_one_is_not(client):
    user = await _person()
    tag = uuid.uuid4().hex
    for n in range(2):
        await notify.enqueue(user.id, "test", f"lease {tag}", f"message {n}", f"lease:{tag}:{n}", urgent=True)
    now = utcnow()
    # Two claims by a deliverer that then died: one lease has run out, the other has not yet.
    for n, lease_end in ((0, now - timedelta(seconds=1)), (1, now + timedelta(minutes=4))):
        await Notification.update(
            {Notification.status: "sending", Notification.not_before: lease_end, Notification.attempts: 1}
        ).where(Notification.dedupe_key == f"lease:{tag}:{n}:sms")
    sender = _SlowRecorder()
    await notify.deliver_due(sender)
    assert [body for body in sender.sent if tag in body] == [f"lease {tag}: message 0"]
    retried = await Notification.objects().where(Notification.dedupe_key == f"lease:{tag}:0:sms").first()
    assert retried.status == "sent" and retried.attempts == 2
