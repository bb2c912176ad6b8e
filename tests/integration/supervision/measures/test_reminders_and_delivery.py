"""Check-in reminders are sent once across a scheduler restart; quiet hours hold back non-urgent SMS; a
failed delivery backs off."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from backend.core.clock import utcnow
from backend.notify import services as notify
from backend.notify.tables import Notification
from backend.ops.sms import ConsoleSmsSender
from backend.ops.tables import SmsMessage
from backend.supervision import jobs
from backend.supervision.checkins.tables import CheckinWindow
from tests.support.api import bearer, demo_staff, phone_login
from tests.support.supervision import enrol_and_place


class _BrokenSender:
    name = "broken"

    async def send(self, to, body):
        raise ConnectionError("provider down")


async def test_reminders_are_sent_once_even_across_a_scheduler_restart(client, demo_logins, app):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    now = utcnow()
    await CheckinWindow.insert(
        CheckinWindow(
            measure=case["measure"]["id"],
            kind="scheduled",
            opens_at=now + timedelta(minutes=5),
            closes_at=now + timedelta(minutes=65),
            grace_until=now + timedelta(minutes=185),
        )
    )
    person = case["person_id"]
    first = await jobs.send_reminders(now)
    count = await Notification.count().where(Notification.user == person)
    assert first >= 2 and count >= 2
    # A "restarted" scheduler runs the same job again: nothing new is queued.
    from backend.jobs import build_scheduler

    build_scheduler(app.state.services)
    assert await jobs.send_reminders(now) == 0
    assert await Notification.count().where(Notification.user == person) == count
    sent = await notify.deliver_due(ConsoleSmsSender())
    assert sent["sent"] >= 1
    # Delivery takes 200 a call: other tests' measures had reminders due too (the whole suite's database).
    while (await notify.deliver_due(ConsoleSmsSender()))["sent"]:
        pass
    assert (
        await SmsMessage.count().where(SmsMessage.to == case["phone"]["phone"]) >= 2
    )  # login code + reminder
    assert await notify.deliver_due(ConsoleSmsSender()) == {"sent": 0, "retry": 0, "failed": 0}


async def test_quiet_hours_hold_back_non_urgent_sms_but_not_urgent_ones():
    quiet = notify.QuietHours(22, 7, "Asia/Shanghai")
    late_evening = datetime.fromisoformat("2026-11-22T23:30:00+08:00")
    wake = quiet.next_allowed(late_evening)
    assert wake.isoformat() == "2026-11-23T07:00:00+08:00"
    noon = datetime.fromisoformat("2026-11-22T12:00:00+08:00")
    assert quiet.next_allowed(noon) == noon


async def test_failed_delivery_backs_off_and_is_recorded(client):
    tokens = await phone_login(client)
    me = (await client.get("/m/v1/me", headers=bearer(tokens))).json()
    await notify.enqueue(me["id"], "test", "Hello", "World", f"test:{uuid.uuid4()}", urgent=True)
    counts = await notify.deliver_due(_BrokenSender())
    assert counts["retry"] >= 1
    note = (
        await Notification.objects()
        .where((Notification.user == me["id"]) & (Notification.channel == "sms"))
        .first()
    )
    assert note.status == "pending" and note.attempts == 1 and "provider down" in note.last_error
    assert note.not_before > utcnow() + timedelta(seconds=20)
