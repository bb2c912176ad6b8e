"""Live alerts to officers' consoles: an in-process publish/subscribe keyed by agency.

One process serves the websocket connections it holds; a multi-process deployment would put this behind
PostgreSQL LISTEN/NOTIFY or Redis, behind the same two methods.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict


class AlertBroker:
    EVERY_AGENCY = "*"  # platform administrators

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def subscribe(self, agency_ids: set[str]) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=100)
        for agency in agency_ids:
            self._subscribers[agency].add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        for queues in self._subscribers.values():
            queues.discard(queue)

    async def publish(self, agency_id: str, message: dict) -> None:
        targets = self._subscribers.get(agency_id, set()) | self._subscribers.get(self.EVERY_AGENCY, set())
        for queue in list(targets):
            if not queue.full():
                queue.put_nowait(message)


broker = AlertBroker()
