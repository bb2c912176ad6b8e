"""`remotecase run --with-scheduler`, what the Quick start runs: the server runs the scheduler too, so a
window whose grace has passed becomes `missed` with nobody running a sweep by hand. There is one
scheduler however many server workers there are, and it stops with the server."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from backend.core.clock import utcnow
from backend.supervision.checkins.tables import CheckinWindow
from tests.support.api import demo_staff
from tests.support.live_server import live_server
from tests.support.supervision import enrol_and_place, open_window

DEADLINE_S = 60  # the sweep runs every second here; this only bounds a broken scheduler's wait


def _scheduler_processes(port: int) -> list[int]:
    """Pids of the `remotecase scheduler` processes whose parent is the server listening on `port`."""
    procs = Path("/proc")
    servers, schedulers = set(), {}
    for entry in procs.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int(
                next(x for x in (entry / "status").read_text().splitlines() if x.startswith("PPid:"))[5:]
            )
        except (OSError, StopIteration, ValueError):
            continue
        if b"run" in args and str(port).encode() in args:
            servers.add(int(entry.name))
        elif args[-2:] == [b"scheduler", b""]:
            schedulers[int(entry.name)] = ppid
    return [pid for pid, ppid in schedulers.items() if ppid in servers]


async def _status(window_id: str) -> str:
    return (await CheckinWindow.select(CheckinWindow.status).where(CheckinWindow.id == window_id).first())[
        "status"
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts processes through /proc")
async def test_the_embedded_scheduler_sweeps_missed_windows_by_itself(client, demo_logins):
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
    assert await _status(window["id"]) == "open"

    output: list[str] = []
    env = {"SCHEDULER_SWEEP_SECONDS": "1", "WEB_WORKERS": "2"}
    with live_server(env, output=output, extra_args=["--with-scheduler"]) as url:
        port = int(url.rsplit(":", 1)[1])
        deadline = time.monotonic() + DEADLINE_S
        for _ in range(DEADLINE_S * 2):  # polls the database, which no event here could announce
            if await _status(window["id"]) == "missed" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert await _status(window["id"]) == "missed", "".join(output)
        assert len(_scheduler_processes(port)) == 1  # two workers, one scheduler
    assert any("scheduler running" in line for line in output), "".join(output)
    assert _scheduler_processes(port) == []  # stopped with the server, not left behind
