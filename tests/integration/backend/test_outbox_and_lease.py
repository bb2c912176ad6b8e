"""SMS delivery through the real twilio client against a local Twilio-speaking server (permanent errors
end a message, transient ones are retried with jittered backoff), and the scheduler lease (one scheduler
runs the jobs, a standby takes over when it dies)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.accounts.tables import User
from backend.core.clock import utcnow
from backend.jobs import build_scheduler
from backend.notify import services as notify
from backend.notify.tables import Notification
from backend.ops import lease
from backend.ops.sms import TwilioSmsSender
from backend.ops.tables import SchedulerLease
from backend.ops.twilio_client import make_twilio_client
from backend.settings import SettingsError, TwilioSettings, load_settings
from backend.supervision.checkins.tables import CheckinWindow
from tests.support.api import demo_staff, random_phone
from tests.support.supervision import enrol_and_place, open_window
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


async def _person(phone: str | None = None) -> User:
    user = User(role="citizen", phone=phone, display_name="", created_at=utcnow())
    await user.save()
    return user


async def _queue(user: User, n: int = 1) -> list[str]:
    tag = uuid.uuid4().hex
    for i in range(n):
        await notify.enqueue(
            user.id, "test", f"outbox {tag}", f"message {i}", f"outbox:{tag}:{i}", urgent=True
        )
    return [f"outbox:{tag}:{i}:sms" for i in range(n)]


async def _note(key: str) -> Notification:
    return await Notification.objects().where(Notification.dedupe_key == key).first()


def _sent_to(fake: FakeTwilio, phone: str) -> int:
    return sum(1 for form in fake.messages if form.get("To") == phone)


@pytest.mark.parametrize(
    ("status", "code"), [(400, 21211), (400, 21614), (400, 21610)], ids=["invalid", "landline", "stop"]
)
async def test_a_permanent_provider_error_is_sent_once_and_marked_failed(
    client, twilio, sender, status, code
):
    user = await _person(random_phone())
    twilio.message_failures[user.phone] = [(status, code, "refused for good")]
    [key] = await _queue(user)
    await notify.deliver_due(sender())
    note = await _note(key)
    assert note.status == "failed" and note.attempts == 1
    assert f"status {status}, code {code}" in note.last_error and "refused for good" in note.last_error
    # Nothing will try it again, however much later the deliverer runs.
    await Notification.update({Notification.not_before: utcnow() - timedelta(days=1)}).where(
        Notification.dedupe_key == key
    )
    await notify.deliver_due(sender())
    assert _sent_to(twilio, user.phone) == 1 and (await _note(key)).status == "failed"


async def test_an_account_without_a_phone_fails_at_once_without_calling_the_provider(client, twilio, sender):
    user = await _person(None)
    [key] = await _queue(user)
    before = len(twilio.messages)
    await notify.deliver_due(sender())
    note = await _note(key)
    assert note.status == "failed" and "no phone number on the account" in note.last_error
    assert len(twilio.messages) == before


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (503, 20503), (500, 20500), (400, 21212)])
async def test_a_transient_error_is_retried_later_with_jitter_then_delivered(
    client, twilio, sender, status, code
):
    user = await _person(random_phone())
    twilio.message_failures[user.phone] = [(status, code, "try later")] * 6
    keys = await _queue(user, 6)
    started = utcnow()
    await notify.deliver_due(sender())
    notes = [await _note(key) for key in keys]
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
    notes = [await _note(key) for key in keys]
    assert {(n.status, n.attempts) for n in notes} == {("sent", 2)}
    assert _sent_to(twilio, user.phone) == 12


async def test_a_provider_that_cannot_be_reached_is_retried(client, sender):
    user = await _person(random_phone())
    [key] = await _queue(user)
    await notify.deliver_due(sender(base_url="http://127.0.0.1:9"))  # nothing listens there
    note = await _note(key)
    assert note.status == "pending" and note.attempts == 1 and note.last_error


def test_backoff_doubles_up_to_its_cap_and_adds_at_most_half_as_jitter():
    for attempts, backoff in ((1, 30), (2, 60), (3, 120), (7, 1800), (40, 1800)):
        delays = [notify.retry_delay(attempts).total_seconds() for _ in range(200)]
        assert backoff <= min(delays) and max(delays) <= backoff * 1.5
        assert max(delays) - min(delays) > backoff * 0.2  # really random


# --- the scheduler lease ---------------------------------------------------------------------------


def test_lease_settings_default_and_are_checked(monkeypatch):
    for name in ("SCHEDULER_LEASE_SECONDS", "SCHEDULER_LEASE_RENEW_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.scheduler_lease_seconds, settings.scheduler_lease_renew_seconds) == (30, 10)
    monkeypatch.setenv("SCHEDULER_LEASE_SECONDS", "30s")
    monkeypatch.setenv("SCHEDULER_LEASE_RENEW_SECONDS", "0")
    with pytest.raises(SettingsError) as bad:
        load_settings()
    assert bad.value.variables == ["SCHEDULER_LEASE_SECONDS", "SCHEDULER_LEASE_RENEW_SECONDS"]
    monkeypatch.setenv("SCHEDULER_LEASE_SECONDS", "10")
    monkeypatch.setenv("SCHEDULER_LEASE_RENEW_SECONDS", "10")  # renewing no sooner than it runs out
    with pytest.raises(SettingsError, match="SCHEDULER_LEASE_RENEW_SECONDS must be less than"):
        load_settings()


def _lease_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("expired_row", [False, True], ids=["no-row", "expired-row"])
async def test_many_schedulers_asking_at_once_exactly_one_gets_the_lease(client, expired_row):
    name = _lease_name()
    if expired_row:
        await SchedulerLease.insert(
            SchedulerLease(name=name, holder="dead", expires_at=utcnow() - timedelta(seconds=1))
        )
    holders = [f"h{i}" for i in range(20)]
    won = await asyncio.gather(*(lease.take(name, h, 30) for h in holders))
    assert Counter(won) == {True: 1, False: 19}
    row = await SchedulerLease.objects().where(SchedulerLease.name == name).first()
    assert row.holder == holders[won.index(True)] and row.expires_at > utcnow() + timedelta(seconds=25)
    # The holder renews; the others still cannot take it.
    assert await lease.take(name, row.holder, 30)
    assert not any(await asyncio.gather(*(lease.take(name, h, 30) for h in holders if h != row.holder)))


async def test_an_expired_lease_is_taken_over_and_a_released_one_at_once(client):
    name = _lease_name()
    assert await lease.take(name, "a", 30)
    assert not await lease.take(name, "b", 30)
    await SchedulerLease.update({SchedulerLease.expires_at: utcnow() - timedelta(seconds=1)}).where(
        SchedulerLease.name == name
    )
    assert await lease.take(name, "b", 30)
    assert not await lease.take(name, "a", 30)  # the old holder, back, is now the standby
    await lease.release(name, "a")  # releasing someone else's lease does nothing
    assert not await lease.take(name, "c", 30)
    await lease.release(name, "b")
    assert await lease.take(name, "c", 30)


class _Instance:
    """One scheduler process in miniature: a lease keeper and an APScheduler running one guarded job."""

    def __init__(self, name: str, runs: list[str], who: str) -> None:
        self.keeper = lease.LeaseKeeper(name, lease_seconds=1.5, renew_seconds=0.2, holder=who)
        self.scheduler = AsyncIOScheduler(timezone="UTC")

        async def job() -> None:
            runs.append(who)

        self.scheduler.add_job(
            lease.guarded(self.keeper, "test.job", job), "interval", seconds=0.1, id="test.job"
        )

    async def start(self) -> None:
        await self.keeper.start()
        self.scheduler.start()

    async def stop(self, *, died: bool = False) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.keeper.stop(release_lease=not died)


async def _wait_for(condition, seconds: float) -> float:
    start = asyncio.get_running_loop().time()
    while not condition():
        assert asyncio.get_running_loop().time() - start < seconds, "timed out"
        await asyncio.sleep(0.05)
    return asyncio.get_running_loop().time() - start


@pytest.mark.parametrize("died", [True, False], ids=["holder-dies", "holder-stops"])
async def test_only_the_holder_runs_jobs_and_the_standby_takes_over(client, died):
    name, runs = _lease_name(), []
    first, second = _Instance(name, runs, "first"), _Instance(name, runs, "second")
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(1.0)
        assert set(runs) == {"first"} and len(runs) >= 5
        assert first.keeper.held and not second.keeper.held
        await first.stop(died=died)
        runs.clear()
        took = await _wait_for(lambda: "second" in runs, 4)
        # A dead holder's lease must run out first (1.5 s); a stopped one hands it over at the next try.
        assert took > 1.0 if died else took < 1.0
        assert set(runs) == {"second"}
    finally:
        await first.stop(died=True)
        await second.stop()


async def test_every_scheduler_job_does_nothing_on_a_standby(client, app):
    name = _lease_name()
    assert await lease.take(name, "someone-else", 30)
    standby = lease.LeaseKeeper(name, lease_seconds=30, renew_seconds=5)
    await standby.try_once()
    user = await _person(random_phone())
    [key] = await _queue(user)
    sender = app.state.services.sms
    scheduler = build_scheduler(app.state.services, keeper=standby)
    assert {job.id for job in scheduler.get_jobs()} >= {"notify.deliver", "supervision.sweep_missed"}
    for job in scheduler.get_jobs():
        assert await job.func() is None
    assert (await _note(key)).status == "pending"
    # The same job on the lease's holder delivers it.
    holder = lease.LeaseKeeper(name, lease_seconds=30, renew_seconds=5, holder="someone-else")
    assert await holder.try_once()
    deliver = build_scheduler(app.state.services, keeper=holder).get_job("notify.deliver")
    await deliver.func()
    assert (await _note(key)).status == "sent", sender


async def _holder_pid() -> int | None:
    row = await SchedulerLease.objects().where(SchedulerLease.name == lease.SCHEDULER).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return int(row.holder.split(":")[1])


async def _until(predicate, seconds: float):
    for _ in range(int(seconds * 5)):
        if value := await predicate():
            return value
        await asyncio.sleep(0.2)
    return await predicate()


async def test_two_scheduler_processes_one_active_and_the_standby_takes_over_when_it_is_killed(
    client, demo_logins
):
    env = os.environ | {
        "SCHEDULER_LEASE_SECONDS": "3",
        "SCHEDULER_LEASE_RENEW_SECONDS": "1",
        "SCHEDULER_SWEEP_SECONDS": "1",
    }
    command = [sys.executable, "-m", "backend.cli", "scheduler"]
    started = []
    try:
        started.append(_start(command, env))
        first = started[0].pid
        # A lease left by an earlier scheduler in this database runs out within its own lease length.
        assert await _until(lambda: _is(first), 40), "the first scheduler never took the lease"
        started.append(_start(command, env))
        second = started[1].pid
        await asyncio.sleep(3)  # several renewals and standby tries
        assert await _holder_pid() == first
        os.kill(first, signal.SIGKILL)  # dies without handing the lease back
        assert await _until(lambda: _is(second), 10), "the standby did not take over"
        # The new active scheduler runs the jobs: a window past its grace becomes missed on its own.
        officer = await demo_staff(client, demo_logins, "officer")
        case = await enrol_and_place(client, officer)
        window = await open_window(client, officer, case["measure"]["id"])
        past = utcnow() - timedelta(minutes=1)
        await CheckinWindow.update(
            {
                CheckinWindow.opens_at: past - timedelta(minutes=30),
                CheckinWindow.closes_at: past,
                CheckinWindow.grace_until: past,
            }
        ).where(CheckinWindow.id == window["id"])

        async def missed() -> bool:
            row = await CheckinWindow.select(CheckinWindow.status).where(CheckinWindow.id == window["id"])
            return row[0]["status"] == "missed"

        assert await _until(missed, 20)
        # Stopped cleanly, it hands the lease back at once.
        started[1].terminate()
        started[1].wait(30)
        assert await _holder_pid() is None
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()


def _start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603 - our own command


async def _is(pid: int) -> bool:
    return await _holder_pid() == pid
