"""SMS delivery through the real twilio client against a local Twilio-speaking server: permanent
errors end a message, transient ones are retried with jittered backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.core.clock import utcnow
from backend.notify import services as notify
from backend.notify.tables import Notification
from backend.ops.sms import TwilioSmsSender
from backend.ops.twilio_client import make_twilio_client
from backend.settings import TwilioSettings
from tests.support import outbox
from tests.support.api import random_phone
from tests.support.twilio_fake import FakeTwilio


@pytest.fixture(scope="module")
async def twilio():
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def sender(twilio):
    """The platform's Twilio sender with the real twilio client, talking to the local server."""
    made = []

    def make(base_url: str | None = None) -> TwilioSmsSender:
        settings = TwilioSettings(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            verify_service_sid=twilio.service_sid,
            messaging_from="+15005550006",
            base_url=base_url or twilio.url,
        )
        made.append(make_twilio_client(settings))
        return TwilioSmsSender(made[-1], "+15005550006")

    yield make
    for client in made:
        await client.http_client.close()


def _sent_to(fake: FakeTwilio, phone: str) -> int:
    return sum(1 for form in fake.messages if form.get("To") == phone)


@pytest.mark.parametrize(
    ("status", "code"), [(400, 21211), (400, 21614), (400, 21610)], ids=["invalid", "landline", "stop"]
)
async def test_a_permanent_provider_error_is_sent_once_and_marked_failed(
    client, twilio, sender, status, code
):
    user = await outbox.person(random_phone())
    twilio.message_failures[user.phone] = [(status, code, "refused for good")]
    [key] = await outbox.queue(user)
    await notify.deliver_due(sender())
    note = await outbox.note(key)
    assert note.status == "failed" and note.attempts == 1
    assert f"status {status}, code {code}" in note.last_error and "refused for good" in note.last_error
    # Nothing will try it again, however much later the deliverer runs.
    await Notification.update({Notification.not_before: utcnow() - timedelta(days=1)}).where(
        Notification.dedupe_key == key
    )
    await notify.deliver_due(sender())
    assert _sent_to(twilio, user.phone) == 1 and (await outbox.note(key)).status == "failed"


async def test_an_account_without_a_phone_fails_at_once_without_calling_the_provider(client, twilio, sender):
    user = await outbox.person(None)
    [key] = await outbox.queue(user)
    before = len(twilio.messages)
    await notify.deliver_due(sender())
    note = await outbox.note(key)
    assert note.status == "failed" and "no phone number on the account" in note.last_error
    assert len(twilio.messages) == before


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (503, 20503), (500, 20500), (400, 21212)])
async def test_a_transient_error_is_retried_later_with_jitter_then_delivered(
    client, twilio, sender, status, code
):
    user = await outbox.person(random_phone())
    twilio.message_failures[user.phone] = [(status, code, "try later")] * 6
    keys = await outbox.queue(user, 6)
    started = utcnow()
    await notify.deliver_due(sender())
    notes = [await outbox.note(key) for key in keys]
    assert {n.status for n in notes} == {"pending"} and {n.attempts for n in notes} == {1}
    assert all(f"status {status}, code {code}" in n.last_error for n in notes)
    # 30 s backoff plus up to 15 s of jitter: the six retries are spread, not all at one instant.
    delays = [(n.not_before - started).total_seconds() for n in notes]
    assert all(29.9 < d < 46 for d in delays), delays
    assert len({round(d, 3) for d in delays}) > 1
    # Not yet due: the next run leaves them; once due, they go out, each exactly once more.
    await notify.deliver_due(sender())
    assert _sent_to(twilio, user.phone) == 6
    await Notification.update({Notification.not_before: utcnow() - timedelta(seconds=1)}).where(
        Notification.dedupe_key.is_in(keys)
    )
    await notify.deliver_due(sender())
    notes = [await outbox.note(key) for key in keys]
    assert {(n.status, n.attempts) for n in notes} == {("sent", 2)}
    assert _sent_to(twilio, user.phone) == 12


async def test_a_provider_that_cannot_be_reached_is_retried(client, sender):
    user = await outbox.person(random_phone())
    [key] = await outbox.queue(user)
    await notify.deliver_due(sender(base_url="http://127.0.0.1:9"))  # nothing listens there
    note = await outbox.note(key)
    assert note.status == "pending" and note.attempts == 1 and note.last_error


def test_backoff_doubles_up_to_its_cap_and_adds_at_most_half_as_jitter():
    for attempts, backoff in ((1, 30), (2, 60), (3, 120), (7, 1800), (40, 1800)):
        delays = [notify.retry_delay(attempts).total_seconds() for _ in range(200)]
        assert backoff <= min(delays) and max(delays) <= backoff * 1.5
        assert max(delays) - min(delays) > backoff * 0.2  # really random
