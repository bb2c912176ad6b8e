"""Live alerts to officers' consoles: an in-process publish/subscribe keyed by agency, fed from the database.

Alerts are raised wherever a code turns red: in the server (an officer's violation) and in the scheduler
process (the missed-window sweep, the commonest cause). The server publishes its own after commit at once;
`AlertFeed` tails the alerts table and publishes those committed by any other process, within a second.
The broker drops an alert it has already delivered, so the two paths never push one alert twice.
A console that falls behind (its queue full) is never dropped from silently: the drop is logged and counted,
and its socket tells the console to resync (reload the board) before the next alert it sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict
from datetime import datetime, timedelta

from backend.core.clock import utcnow
from backend.db import sql

log = logging.getLogger(__name__)
RECENT = 5000  # alert ids remembered for de-duplication
QUEUE_SIZE = 100  # alerts one console may fall behind by


class Subscription(asyncio.Queue):
    """One console's queue; `dropped` counts alerts that did not fit since it last resynced."""

    def __init__(self, maxsize: int = QUEUE_SIZE) -> None:
        super().__init__(maxsize=maxsize)
        self.dropped = 0

    def take_dropped(self) -> int:
        dropped, self.dropped = self.dropped, 0
        return dropped


class AlertBroker:
    EVERY_AGENCY = "*"  # platform administrators

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self.dropped_total = 0

    def subscribe(self, agency_ids: set[str], maxsize: int = QUEUE_SIZE) -> Subscription:
        queue = Subscription(maxsize)
        for agency in agency_ids:
            self._subscribers[agency].add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        for queues in self._subscribers.values():
            queues.discard(queue)

    async def publish(self, agency_id: str, message: dict) -> None:
        if (alert_id := message.get("id")) is not None:
            if alert_id in self._delivered:
                return
            self._delivered[alert_id] = None
            if len(self._delivered) > RECENT:
                self._delivered.popitem(last=False)
        targets = self._subscribers.get(agency_id, set()) | self._subscribers.get(self.EVERY_AGENCY, set())
        for queue in list(targets):
            if not queue.full():
                queue.put_nowait(message)
                continue
            if isinstance(queue, Subscription):
                if not queue.dropped:  # once per episode: a stuck console must not flood the log
                    log.warning("live alert queue full; console will be told to resync")
                queue.dropped += 1
            self.dropped_total += 1


broker = AlertBroker()


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


class AlertFeed:
    """Polls the alerts table (one indexed query a second) and hands new rows to the broker. It re-reads a
    short overlap each time, because an alert whose transaction commits late carries an earlier timestamp."""

    def __init__(
        self, target: AlertBroker, interval_s: float = 1.0, overlap: timedelta = timedelta(seconds=30)
    ) -> None:
        self._broker, self._interval, self._overlap = target, interval_s, overlap
        self._since = utcnow()

    async def poll_once(self) -> int:
        rows = await sql.fetch(
            "SELECT id, measure, agency, level, message, created_at FROM alerts WHERE created_at > $1 "
            "ORDER BY created_at",
            self._since - self._overlap,
        )
        for row in rows:
            await self._broker.publish(
                str(row["agency"]),
                alert_message(row["id"], row["measure"], row["level"], row["message"], row["created_at"]),
            )
        if rows:
            self._since = max(self._since, rows[-1]["created_at"])
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end live alerts for good
                log.exception("alert feed poll failed")
            await asyncio.sleep(self._interval)
