"""A phone silent for longer than its agency's threshold (default 2 h): one officer task per loss, the
person told in Chinese and English, an audit row, never points; concurrent sweeps act once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from backend.accounts.tables import User
from backend.audit.tables import AuditEntry
from backend.core.clock import utcnow
from backend.notify.tables import Notification
from backend.supervision.fences import signal_loss_tasks
from backend.supervision.fences.signal_loss import sweep_signal_loss
from backend.supervision.fences.tables import FenceEvent, FenceState
from backend.supervision.handling.tables import Task
from backend.supervision.ledger.tables import AgencyPolicy, LedgerEntry
from backend.supervision.measures.tables import Measure
from geofence import PersonState
from tests.support.api import demo_staff
from tests.support.supervision import enrol_and_place


async def _silent_since(client, demo_logins) -> tuple[dict, datetime]:
    """A placed measure whose phone sent its last accepted fix a minute ago, as an upload leaves it."""
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    last_fix = utcnow() - timedelta(minutes=1)
    await _phone_sent_a_fix(case["measure"]["id"], last_fix)
    return case, last_fix


async def _phone_sent_a_fix(measure_id: str, at: datetime) -> None:
    state = PersonState(person_id=1, last_t=at.timestamp(), seen_t=at.timestamp()).to_json()
    await FenceState.delete().where(FenceState.measure == measure_id)
    await FenceState.insert(FenceState(measure=measure_id, state=state, updated_at=at))


async def _tasks(measure_id: str) -> list[Task]:
    return await Task.objects().where((Task.measure == measure_id) & (Task.kind == "signal_loss"))


async def _told(person_id: str) -> list[Notification]:
    return await Notification.objects().where(
        (Notification.user == person_id) & (Notification.kind == "signal_lost")
    )


async def _losses(measure_id: str) -> list[FenceEvent]:
    return await FenceEvent.objects().where(
        (FenceEvent.measure == measure_id) & (FenceEvent.kind == "signal_lost")
    )


async def test_a_loss_past_two_hours_opens_one_task_and_tells_the_person_once(client, demo_logins):
    case, t0 = await _silent_since(client, demo_logins)
    measure_id, person = case["measure"]["id"], case["person_id"]
    score = (await Measure.objects().where(Measure.id == measure_id).first()).score

    await sweep_signal_loss(t0 + timedelta(minutes=30))  # lost, but not yet for long
    assert len(await _losses(measure_id)) == 1 and await _tasks(measure_id) == []
    await sweep_signal_loss(t0 + timedelta(hours=1, minutes=59))
    assert await _tasks(measure_id) == [] and await _told(person) == []

    await sweep_signal_loss(t0 + timedelta(hours=2, minutes=5))
    [task] = await _tasks(measure_id)
    [loss] = await _losses(measure_id)
    assert task.status == "open" and (task.ref_type, task.ref_id) == ("fence_event", str(loss.id))
    assert "2 hours" in task.summary
    told = await _told(person)
    assert {n.channel for n in told} == {"inbox", "sms"}
    assert all("定位信号中断" in n.title and "Location signal lost" in n.title for n in told)
    assert all("2小时" in n.body and "2 hours" in n.body for n in told)
    audit = await AuditEntry.objects().where(
        (AuditEntry.action == "signal_loss.task_opened") & (AuditEntry.object_id == measure_id)
    )
    assert len(audit) == 1 and audit[0].actor_id == "system"

    # Later sweeps of the same loss change nothing; and it never costs points.
    await sweep_signal_loss(t0 + timedelta(hours=5))
    assert len(await _tasks(measure_id)) == 1 and len(await _told(person)) == 2
    assert await LedgerEntry.count().where(LedgerEntry.measure == measure_id) == 0
    assert (await Measure.objects().where(Measure.id == measure_id).first()).score == score

    # The phone comes back, then goes silent again: a new loss, a new task and message, now in the
    # language the person chose meanwhile.
    await User.update({User.language: "en"}).where(User.id == person)
    back = t0 + timedelta(hours=6)
    await _phone_sent_a_fix(measure_id, back)
    await sweep_signal_loss(back + timedelta(hours=3))
    assert len(await _losses(measure_id)) == 2 and len(await _tasks(measure_id)) == 2
    told = sorted(await _told(person), key=lambda n: str(n.id))  # UUIDv7: in the order queued
    assert [n.title for n in told[2:]] == ["Location signal lost"] * 2
    assert told[2].body.startswith("We have had no location from your phone for over 2 hours.")


async def test_the_agency_sets_its_own_threshold(client, demo_logins):
    case, t0 = await _silent_since(client, demo_logins)
    measure_id = case["measure"]["id"]
    agency = (await Measure.objects().where(Measure.id == measure_id).first()).executing_agency
    existing = await AgencyPolicy.objects().where(AgencyPolicy.agency == agency).first()
    if existing is None:
        await AgencyPolicy.insert(AgencyPolicy(agency=agency, signal_loss_task_seconds=4 * 3600))
    else:
        await AgencyPolicy.update({AgencyPolicy.signal_loss_task_seconds: 4 * 3600}).where(
            AgencyPolicy.agency == agency
        )
    try:
        await sweep_signal_loss(t0 + timedelta(hours=3))
        assert await _tasks(measure_id) == []
        await sweep_signal_loss(t0 + timedelta(hours=4, minutes=5))
        [task] = await _tasks(measure_id)
        assert "4 hours" in task.summary
    finally:
        if existing is None:
            await AgencyPolicy.delete().where(AgencyPolicy.agency == agency)
        else:
            await AgencyPolicy.update({AgencyPolicy.signal_loss_task_seconds: 7200}).where(
                AgencyPolicy.agency == agency
            )


async def test_sweeps_running_at_once_record_the_loss_and_open_the_task_once(client, demo_logins):
    case, t0 = await _silent_since(client, demo_logins)
    measure_id, person = case["measure"]["id"], case["person_id"]
    now = t0 + timedelta(hours=3)
    await asyncio.gather(*(sweep_signal_loss(now) for _ in range(6)))
    assert len(await _losses(measure_id)) == 1
    assert len(await _tasks(measure_id)) == 1
    assert len([n for n in await _told(person) if n.channel == "sms"]) == 1
    # The task pass alone, raced, still opens nothing more.
    await asyncio.gather(*(signal_loss_tasks.open_for_long_losses(now) for _ in range(6)))
    assert len(await _tasks(measure_id)) == 1


def test_the_message_comes_in_both_languages_or_the_one_asked_for():
    title, body = signal_loss_tasks.signal_lost_person_text(5400)
    assert title == "定位信号中断 / Location signal lost"
    assert "90分钟" in body and "90 minutes" in body and "不会扣分" in body and "no points" in body
    assert signal_loss_tasks.signal_lost_person_text(3600, "en")[1].startswith(
        "We have had no location from your phone for over 1 hour."
    )
    assert "1小时" in signal_loss_tasks.signal_lost_person_text(3600, "zh")[1]
    assert signal_loss_tasks.MESSAGE_ID == "signal_lost.person"
