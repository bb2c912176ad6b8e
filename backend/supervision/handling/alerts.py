"""Live alerts to officers' consoles: one channel per agency, fed after commit.

Alerts are raised wherever a code turns red: in a server process (an officer's violation) and in the
scheduler (the missed-window sweep, the commonest cause). Each is a row in `alerts` first; publishing it
afterwards only tells open sockets sooner. A socket replays from the table whatever it may have missed
(backend.supervision.handling.live.controllers), so a lost message costs latency, never the alert.

Where messages travel:
- REDIS_URL set: Redis pub/sub. Every process publishes there (a server through its channels plugin,
  backend.web.alert_channels; the scheduler directly), and every server worker on every host hears
  every alert.
- unset (the embedded default): the server's own memory. The scheduler cannot reach it, so `AlertFeed`
  tails the table and publishes what other processes committed, within a second; an alert published
  twice (by the server and again by its feed) goes out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import msgspec

from backend.core.clock import utcnow
from backend.settings import Settings, get_settings
from backend.supervision.handling import store

log = logging.getLogger(__name__)
RECENT = 5000  # alert ids remembered for de-duplication
EVERY_AGENCY = "*"  # platform administrators


def channel_names(namespace: str, agency_ids: Iterable[str]) -> list[str]:
    return [f"remotecase:{namespace}:alerts:{agency}" for agency in agency_ids]


def channel_namespace(redis_url: str | None) -> str:
    """Redis pub/sub ignores the database number, so channels carry it: two deployments (or two test
    runs) sharing one Redis on different databases never hear each other's alerts."""
    if not redis_url:
        return "local"
    return (urlsplit(redis_url).path.strip("/") or "0").replace(":", "_")


def alert_message(
    alert_id: object, measure_id: object, level: str, message: str, created_at: datetime
) -> dict:
    return {
        "type": "alert",
        "id": str(alert_id),
        "measure_id": str(measure_id),
        "level": level,
        "message": message,
        "created_at": created_at.isoformat(),
    }


def row_message(row: dict) -> dict:
    return alert_message(row["id"], row["measure"], row["level"], row["message"], row["created_at"])


class Publisher(Protocol):
    """What publishes in a server process: its channels plugin (backend.web.alert_channels)."""

    namespace: str

    def publish(self, data: dict, channels: list[str]) -> None: ...


_running: list[Publisher] = []
_delivered: OrderedDict[str, None] = OrderedDict()


def serve_through(publisher: Publisher) -> None:
    """From now on `publish_alert` in this process goes to the publisher (a server's channels plugin,
    backend.web.alert_channels, while its app runs)."""
    _running.append(publisher)


def stop_serving(publisher: Publisher) -> None:
    with contextlib.suppress(ValueError):
        _running.remove(publisher)


def running_publisher() -> Publisher | None:
    return _running[-1] if _running else None


async def publish_alert(agency_id: str, message: dict) -> None:
    """Tells every console that may see the agency's alerts, on every worker. Never raises: the alert is
    committed already, and a console that missed the message replays it from the table."""
    if (alert_id := message.get("id")) is not None:
        if alert_id in _delivered:
            return
        _delivered[alert_id] = None
        if len(_delivered) > RECENT:
            _delivered.popitem(last=False)
    try:
        await _publish(agency_id, message)
    except Exception:
        log.exception("live alert not published; consoles replay it from the alerts table")


async def _publish(agency_id: str, message: dict) -> None:
    publisher = running_publisher()
    if publisher is not None:
        publisher.publish(message, channel_names(publisher.namespace, [agency_id, EVERY_AGENCY]))
        return
    redis_url = get_settings().redis_url
    if redis_url:  # a process without a server (the scheduler, a CLI command): straight to Redis
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        try:
            channels = channel_names(channel_namespace(redis_url), [agency_id, EVERY_AGENCY])
            data = msgspec.json.encode(message)
            for channel in channels:
                await client.publish(channel, data)
        finally:
            await client.aclose()
    # Neither: the embedded default without a server in this process; the servers' AlertFeed tails it.


class AlertFeed:
    """Polls the alerts table (one indexed query a second) and publishes new rows in this process. It
    re-reads a short overlap each time, because an alert whose transaction commits late carries an
    earlier timestamp. Only for the in-process backend: with Redis, every process publishes itself."""

    def __init__(
        self, settings: Settings, interval_s: float = 1.0, overlap: timedelta = timedelta(seconds=30)
    ) -> None:
        self._redis, self._interval, self._overlap = bool(settings.redis_url), interval_s, overlap
        self._since = utcnow()

    async def poll_once(self) -> int:
        rows = await store.alerts_since(self._since - self._overlap)
        for row in rows:
            await publish_alert(str(row["agency"]), row_message(row))
        if rows:
            self._since = max(self._since, rows[-1]["created_at"])
        return len(rows)

    async def run(self) -> None:
        if self._redis:
            return
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end live alerts for good
                log.exception("alert feed poll failed")
            await asyncio.sleep(self._interval)
