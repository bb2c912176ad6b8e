"""Two real scheduler processes on one database: one runs the jobs, the standby takes over when
the holder is killed, and a clean stop hands the lease back at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta

from backend.core.clock import utcnow
from backend.ops import lease
from backend.ops.tables import SchedulerLease
from backend.supervision.checkins.tables import CheckinWindow
from tests.support.api import demo_staff
from tests.support.supervision import enrol_and_place, open_window


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
