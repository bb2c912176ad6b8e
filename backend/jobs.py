"""The scheduler's jobs: one APScheduler 3.x process, fixed job ids, sweeps over indexed due-times."""

from __future__ import annotations

import asyncio
import logging
import signal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.db.engine import close_database, open_database
from backend.notify.services import deliver_due
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


def build_scheduler(services: Services) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job_id, func, trigger in JOBS:
        scheduler.add_job(func, id=job_id, replace_existing=True, **trigger)

    async def deliver() -> None:
        counts = await deliver_due(services.sms)
        if any(counts.values()):
            log.info("notifications delivered", extra={"counts": counts})

    scheduler.add_job(deliver, id="notify.deliver", replace_existing=True, trigger="interval", seconds=30)
    scheduler.add_job(
        services.biometrics.purge_ended,
        id="face.purge_ended",
        replace_existing=True,
        trigger="interval",
        hours=1,
    )
    return scheduler


async def run_scheduler() -> None:
    await open_database()
    services = build_services(get_settings())
    scheduler = build_scheduler(services)
    scheduler.start()
    log.info("scheduler started", extra={"jobs": [j[0] for j in JOBS]})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    scheduler.shutdown(wait=True)
    await services.close()
    await close_database()
