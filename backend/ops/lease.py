"""The scheduler lease: one scheduler runs the jobs, any other is a standby that takes over when it dies.

A lease is one row of scheduler_leases. A scheduler takes or renews it in one statement (an upsert whose
update applies only if the row is its own or has expired), so of many schedulers trying at once exactly
one holds it: PostgreSQL re-checks the upsert's condition on the row a concurrent winner just wrote, and
SQLite runs its writers one at a time. The holder renews every `renew_seconds`; a standby tries as often
and wins only once the holder has let the lease run out (`lease_seconds` after its last renewal).

The holder counts its lease from the moment before it asked, on a monotonic clock, so it stops running
jobs no later than the database says the lease ends. Expiry times are compared with the host's clock:
hosts sharing a database keep their clocks in sync (NTP); a skew shortens or lengthens a takeover by as
much. A job already running when the lease is lost finishes: jobs are safe to run twice (claims and dedupe
keys), the lease only keeps a second scheduler from doing all the work again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from backend.core.clock import utcnow
from backend.db.engine import write_tx
from backend.ops import store

log = logging.getLogger("remotecase.lease")
SCHEDULER = "scheduler"


def new_holder() -> str:
    """Names this process: the host and pid say who held it, the random part tells restarts apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


async def take(name: str, holder: str, lease_seconds: float) -> bool:
    """Take the lease, or renew it if `holder` has it; False while another holder's lease is running."""
    now = utcnow()
    async with write_tx():
        taken = await store.take_lease(name, holder, now + timedelta(seconds=lease_seconds), now)
    return taken


async def release(name: str, holder: str) -> None:
    """End our lease now (a clean stop), so a standby need not wait for it to run out."""
    async with write_tx():
        await store.end_lease(name, holder, utcnow())


class LeaseKeeper:
    """Keeps trying to take or renew one lease; `held` says whether this process may run jobs now."""

    def __init__(
        self, name: str, lease_seconds: float, renew_seconds: float, holder: str | None = None
    ) -> None:
        self.name, self.holder = name, holder or new_holder()
        self.lease_seconds, self.renew_seconds = lease_seconds, renew_seconds
        self._held_until = 0.0  # time.monotonic() until which our last renewal holds
        self._task: asyncio.Task | None = None

    @property
    def held(self) -> bool:
        return time.monotonic() < self._held_until

    async def try_once(self) -> bool:
        asked_at = time.monotonic()
        was_held = self.held
        try:
            won = await take(self.name, self.holder, self.lease_seconds)
        except Exception:  # a database hiccup: keep what we had until it runs out, try again next turn
            log.warning("lease renewal failed", extra={"lease": self.name}, exc_info=True)
            return self.held
        self._held_until = asked_at + self.lease_seconds if won else 0.0
        if won != was_held:
            what = "taken" if won else "lost"
            log.info("lease %s", what, extra={"lease": self.name, "holder": self.holder})
        return won

    async def _run(self) -> None:
        while True:
            await self.try_once()
            await asyncio.sleep(self.renew_seconds)

    async def start(self) -> None:
        """Try once now (so a lone scheduler runs its jobs from the start), then keep renewing."""
        await self.try_once()
        self._task = asyncio.create_task(self._run(), name=f"lease:{self.name}")

    async def stop(self, *, release_lease: bool = True) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if release_lease and self.held:
            await release(self.name, self.holder)
        self._held_until = 0.0


def guarded(keeper: LeaseKeeper, job_id: str, func: Callable[[], Awaitable[object]]):
    """The job, run only while `keeper` holds the lease (a standby's turns do nothing)."""

    @functools.wraps(func)
    async def run_if_held() -> object:
        if not keeper.held:
            log.debug("not the active scheduler: %s skipped", job_id)
            return None
        return await func()

    return run_if_held
