"""The live-alerts channels plugin of one app: Litestar channels, one channel per agency.

Which backend carries the messages (Redis pub/sub when REDIS_URL is set, the server's own memory
otherwise) and why is told in backend.supervision.handling.alerts, the service side that publishes. While
its app runs, the plugin is that side's publisher (`alerts.serve_through`): `publish_alert` in this
process goes to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend

from backend.settings import Settings
from backend.supervision.handling import alerts
from backend.supervision.handling.alerts import EVERY_AGENCY, channel_names, channel_namespace

log = logging.getLogger(__name__)
QUEUE_SIZE = 100  # live alerts one console may fall behind by before it catches up from the table
WAKE = b'{"type": "wake"}'  # an event that carries no alert: the socket only catches up from the table


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
        alerts.serve_through(self)

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
        alerts.stop_serving(self)
        await super()._on_shutdown()

    @contextlib.asynccontextmanager
    async def alerts_of(self, agency_ids: set[str] | None) -> AsyncIterator[AlertSubscriber]:
        """A subscription to the agencies' alerts (None: every agency's)."""
        agencies = agency_ids if agency_ids is not None else {EVERY_AGENCY}
        channels = channel_names(self.namespace, sorted(agencies) or ["none"])
        async with self.start_subscription(channels) as subscriber:
            yield subscriber


def redis_backend(redis_url: str) -> ChannelsBackend:
    from litestar.channels.backends.redis import RedisChannelsPubSubBackend
    from redis.asyncio import Redis

    return RedisChannelsPubSubBackend(redis=Redis.from_url(redis_url))


def live_alerts_plugin(settings: Settings) -> LiveAlertsPlugin:
    backend = redis_backend(settings.redis_url) if settings.redis_url else MemoryChannelsBackend()
    return LiveAlertsPlugin(backend, channel_namespace(settings.redis_url))
