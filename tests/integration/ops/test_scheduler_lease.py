"""The scheduler lease in one process: one holder among many askers, take-over of an expired or
released lease, and jobs that do nothing on a standby."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.core.clock import utcnow
from backend.jobs import build_scheduler
from backend.ops import lease
from backend.ops.tables import SchedulerLease
from backend.settings import SettingsError, load_settings
from tests.support import outbox
from tests.support.api import random_phone


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
    user = await outbox.person(random_phone())
    [key] = await outbox.queue(user)
    sender = app.state.services.sms
    scheduler = build_scheduler(app.state.services, keeper=standby)
    assert {job.id for job in scheduler.get_jobs()} >= {"notify.deliver", "supervision.sweep_missed"}
    for job in scheduler.get_jobs():
        assert await job.func() is None
    assert (await outbox.note(key)).status == "pending"
    # The same job on the lease's holder delivers it.
    holder = lease.LeaseKeeper(name, lease_seconds=30, renew_seconds=5, holder="someone-else")
    assert await holder.try_once()
    deliver = build_scheduler(app.state.services, keeper=holder).get_job("notify.deliver")
    await deliver.func()
    assert (await outbox.note(key)).status == "sent", sender
