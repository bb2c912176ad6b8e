"""The scheduler's jobs: one APScheduler 3.x process, fixed job ids, sweeps over indexed due-times."""

from __future__ import annotations

import asyncio
import logging
import signal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.db.engine import close_database, open_database
from backend.ops.maintenance import purge_expired

log = logging.getLogger("remotecase.jobs")


async def _purge() -> None:
    log.info("purged expired records", extra={"counts": await purge_expired()})


# (id, coroutine function, trigger kwargs). Later features append their sweeps here.
JOBS = [
    ("maintenance.purge_expired", _purge, {"trigger": "interval", "minutes": 10}),
]


def build_scheduler() -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job_id, func, trigger in JOBS:
        scheduler.add_job(func, id=job_id, replace_existing=True, **trigger)
    return scheduler


async def run_scheduler() -> None:
    await open_database()
    scheduler = build_scheduler()
    scheduler.start()
    log.info("scheduler started", extra={"jobs": [j[0] for j in JOBS]})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    scheduler.shutdown(wait=True)
    await close_database()
