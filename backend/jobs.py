"""The scheduler's jobs: one APScheduler 3.x process, fixed job ids, sweeps over indexed due-times.

`remotecase scheduler` runs it on its own; `remotecase run --with-scheduler` (the Quick start) runs it as
one child process of the server's parent process, however many server workers there are, so there is
still one scheduler. The parent restarts it if it dies and stops it on the way out; the child also stops
by itself within a second once the parent is gone (killed, or a single uvicorn process, which re-raises
SIGTERM after its own shutdown and so never reaches the parent's cleanup), never sweeping on as an orphan.

Any number of schedulers may run against one database (a second host, or one started by hand next to the
embedded one): they share a lease (backend.ops.lease), only its holder runs the jobs, and the others are
standbys that try for it every SCHEDULER_LEASE_RENEW_SECONDS and take over once the holder has not renewed
it for SCHEDULER_LEASE_SECONDS (it died). Every job is wrapped so that a standby's turn does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.db.engine import close_database, open_database
from backend.notify.services import deliver_due
from backend.ops import lease
from backend.ops.maintenance import purge_expired
from backend.services import Services, build_services
from backend.settings import get_settings
from backend.supervision.jobs import JOBS as SUPERVISION_JOBS

log = logging.getLogger("remotecase.jobs")


async def _purge() -> None:
    log.info("purged expired records", extra={"counts": await purge_expired()})


# (id, coroutine function, trigger kwargs). Features add their sweeps to this list.
JOBS = [
    ("maintenance.purge_expired", _purge, {"trigger": "interval", "minutes": 10}),
    *SUPERVISION_JOBS,
]

# The frequent sweeps run every SCHEDULER_SWEEP_SECONDS (default 300) instead of their listed interval.
SWEEPS = frozenset(
    {
        "supervision.reminders",
        "supervision.summons_reminders",
        "supervision.sweep_missed",
        "supervision.signal_loss",
    }
)


def build_scheduler(
    services: Services, sweep_seconds: int | None = None, keeper: lease.LeaseKeeper | None = None
) -> AsyncIOScheduler:
    """The jobs on their triggers; with a `keeper`, each runs only while it holds the scheduler lease."""
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})

    def add(job_id: str, func, **trigger) -> None:
        job = lease.guarded(keeper, job_id, func) if keeper is not None else func
        scheduler.add_job(job, id=job_id, replace_existing=True, **trigger)

    for job_id, func, trigger in JOBS:
        if sweep_seconds is not None and job_id in SWEEPS:
            trigger = {"trigger": "interval", "seconds": sweep_seconds}
        add(job_id, func, **trigger)

    async def deliver() -> None:
        counts = await deliver_due(services.sms)
        if any(counts.values()):
            log.info("notifications delivered", extra={"counts": counts})

    add("notify.deliver", deliver, trigger="interval", seconds=30)
    add("face.purge_ended", services.biometrics.purge_ended, trigger="interval", hours=1)
    return scheduler


PARENT_PID_ENV = "REMOTECASE_SCHEDULER_PARENT"  # set for an embedded scheduler: the server that owns it
RESTART_DELAY_S = 5  # an embedded scheduler that died is started again after this long
STOP_GRACE_S = 30  # how long a stopping server waits for its scheduler's running job


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if os.getppid() != parent:  # the server was killed: this process was handed to another parent
            log.warning("server process %s is gone; scheduler stopping", parent)
            stop.set()
        await asyncio.sleep(1)


async def run_scheduler() -> None:
    settings = get_settings()
    await open_database()
    services = build_services(settings)
    keeper = lease.LeaseKeeper(
        lease.SCHEDULER, settings.scheduler_lease_seconds, settings.scheduler_lease_renew_seconds
    )
    await keeper.start()
    scheduler = build_scheduler(services, settings.scheduler_sweep_seconds, keeper)
    scheduler.start()
    log.info(
        "scheduler started (%s)",
        "active" if keeper.held else "standby",
        extra={
            "jobs": [j[0] for j in JOBS],
            "sweep_seconds": settings.scheduler_sweep_seconds,
            "holder": keeper.holder,
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watcher = None
    if parent := os.environ.get(PARENT_PID_ENV):
        watcher = asyncio.create_task(_watch_parent(int(parent), stop))
    await stop.wait()
    if watcher is not None:
        watcher.cancel()
    scheduler.shutdown(wait=True)
    await keeper.stop()  # hands the lease back: a standby takes over at its next try
    await services.close()
    await close_database()


@contextmanager
def embedded_scheduler():
    """Run `remotecase scheduler` as a child of this process for the duration of the block: one
    scheduler for the whole server, restarted if it dies, stopped (SIGTERM, then killed) at the end."""
    env = os.environ | {PARENT_PID_ENV: str(os.getpid())}

    def start() -> subprocess.Popen:
        # A session of its own: a terminal's Ctrl+C reaches the server, which then stops the scheduler
        # last, rather than both at once and the supervisor restarting it meanwhile.
        command = [sys.executable, "-m", "backend.cli", "scheduler"]
        return subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603 - our own command

    stopping = threading.Event()
    lock = threading.Lock()
    child = {"process": start()}

    def supervise() -> None:
        while not stopping.wait(1):
            with lock:
                process = child["process"]
                if process.poll() is None:
                    continue
                log.warning("scheduler exited with %s; starting another", process.returncode)
            if stopping.wait(RESTART_DELAY_S):
                return
            with lock:
                if not stopping.is_set():
                    child["process"] = start()

    supervisor = threading.Thread(target=supervise, name="scheduler-supervisor", daemon=True)
    supervisor.start()
    try:
        yield
    finally:
        with lock:
            stopping.set()
            process = child["process"]
        supervisor.join(5)
        if process.poll() is None:
            process.terminate()  # SIGTERM: the scheduler lets a running job finish
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
