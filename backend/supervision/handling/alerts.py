"""Live alerts to officers' consoles: Litestar channels, one channel per agency, fed after commit.

Alerts are raised wherever a code turns red: in a server process (an officer's violation) and in the
scheduler (the missed-window sweep, the commonest cause). Each is a row in `alerts` first; publishing it
afterwards only tells open sockets sooner. A socket replays from the table whatever it may have missed
(backend.supervision.handling.live.stream), so a lost message costs latency, never the alert.

Where messages travel:
- REDIS_URL set: Redis pub/sub. Every process publishes there (a server through its plugin, the scheduler
  directly), and every server worker on every host hears every alert.
- unset (the embedded default): the server's own memory. The scheduler cannot reach it, so `AlertFeed`
  tails the table and publishes what other processes committed, within a second; an alert published
  twice (by the server and again by its feed) goes out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

from backend.core.clock import utcnow
from backend.settings import Settings, get_settings
from backend.supervision.handling import store

log = logging.getLogger(__name__)
RECENT = 5000  # alert ids remembered for de-duplication
QUEUE_SIZE = 100  # live alerts one console may fall behind by before it catches up from the table
EVERY_AGENCY = "*"  # platform administrators
WAKE = b'{"type": "wake"}'  # an event that carries no alert: the socket only catches up from the table


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


class AlertSubscriber(Subscriber):
    """One socket's backlog. The plugin drops an event that does not fit without a word; this one
    remembers that it did, so the socket catches up from the table instead of losing the alert."""

    overflowed = False

    def put_nowait(self, item: bytes | None) -> bool:
        if super().put_nowait(item):
            return True
        if not self.overflowed:  # once per episode: a stuck console must not flood the log
            log.warning("live alert backlog full; the console catches up from the alerts table")
        self.overflowed = True
        return False

    def missed_some(self) -> None:
        """Events may have been lost upstream: the socket wakes up and catches up from the table."""
        self.overflowed = True
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(WAKE)

    async def put(self, item: bytes | None) -> None:
        if item is None:  # unsubscribing: a full backlog must not block the closing socket forever
            self.drain()
        await super().put(item)

    async def next_event(self) -> bytes | None:
        return await self._queue.get()

    def drain(self) -> list[bytes]:
        """Every event waiting now, without blocking."""
        events = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                events.append(item)
        return events


class LiveAlertsPlugin(ChannelsPlugin):
    """The channels plugin of one app; while its app runs, `publish_alert` in this process goes to it."""

    def __init__(self, backend: ChannelsBackend, namespace: str) -> None:
        super().__init__(
            backend,
            arbitrary_channels_allowed=True,
            subscriber_max_backlog=QUEUE_SIZE,
            subscriber_class=AlertSubscriber,
        )
        self.namespace = namespace

    async def _on_startup(self) -> None:
        await super()._on_startup()
        _running.append(self)

    async def _pub_worker(self) -> None:
        # The plugin's own worker dies at the first failed publish (Redis away), and then its shutdown
        # waits for the queue forever: here a failure costs that one message, which consoles replay.
        while self._pub_queue is not None:
            data, channels = await self._pub_queue.get()
            try:
                await self._backend.publish(data, channels)
            except Exception:
                log.exception("live alert not published; consoles replay it from the alerts table")
            finally:
                self._pub_queue.task_done()

    async def _sub_worker(self) -> None:
        # The plugin's own worker ends for good when the stream fails (Redis restarted). Here it listens
        # again, and every socket catches up from the table on what it may have missed meanwhile.
        while True:
            try:
                await super()._sub_worker()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live alert stream failed; listening again, consoles catch up from the table")
                for subscriber in {s for subs in self._channels.values() for s in subs}:
                    if isinstance(subscriber, AlertSubscriber):
                        subscriber.missed_some()
                await asyncio.sleep(1)

    async def _on_shutdown(self) -> None:
        with contextlib.suppress(ValueError):
            _running.remove(self)
        await super()._on_shutdown()

    @contextlib.asynccontextmanager
    async def alerts_of(self, agency_ids: set[str] | None) -> AsyncIterator[AlertSubscriber]:
        """A subscription to the agencies' alerts (None: every agency's)."""
        agencies = agency_ids if agency_ids is not None else {EVERY_AGENCY}
        channels = channel_names(self.namespace, sorted(agencies) or ["none"])
        async with self.start_subscription(channels) as subscriber:
            yield subscriber


_running: list[LiveAlertsPlugin] = []
_delivered: OrderedDict[str, None] = OrderedDict()


def redis_backend(redis_url: str) -> ChannelsBackend:
    from litestar.channels.backends.redis import RedisChannelsPubSubBackend
    from redis.asyncio import Redis

    return RedisChannelsPubSubBackend(redis=Redis.from_url(redis_url))


def live_alerts_plugin(settings: Settings) -> LiveAlertsPlugin:
    backend = redis_backend(settings.redis_url) if settings.redis_url else MemoryChannelsBackend()
    return LiveAlertsPlugin(backend, channel_namespace(settings.redis_url))


def running_plugin() -> LiveAlertsPlugin | None:
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
    plugin = running_plugin()
    if plugin is not None:
        plugin.publish(message, channel_names(plugin.namespace, [agency_id, EVERY_AGENCY]))
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
