"""One live-alerts socket after it is authenticated: replay from the table, then live, never a gap.

The socket subscribes first, then replays from the alerts table every alert the officer may see with an
id above the console's `after` (in id order), then sends what arrived live meanwhile and from then on,
skipping ids it has already sent: subscribe-then-replay leaves no gap, the memory of sent ids no
duplicate. Alert ids are UUIDv7, so id order is time order.

A console that reads slower than alerts come fills its backlog (QUEUE_SIZE); the channels plugin drops
what does not fit, and the socket then catches up from the table instead, from a little before the last
id it sent (an alert whose transaction commits late carries an earlier id). Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from uuid import UUID

import msgspec
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from backend.settings import AuthSettings
from backend.supervision.handling.alerts import AlertSubscriber, row_message
from backend.supervision.handling.live import services, store

REPLAY_PAGE = 500  # alerts one table read sends
OVERLAP_MS = 10_000  # a catch-up re-reads this far before its cursor: late commits carry earlier ids
SENT_MEMORY = 5_000  # ids remembered per socket, so no alert goes out twice


def parse_after(value: object) -> UUID | None:
    """The id a console resumes after; None when it is not an alert id (UUID)."""
    try:
        return UUID(str(value))
    except ValueError:
        return None


def id_floor(ms: int) -> UUID:
    """The lowest UUIDv7 of a millisecond: every alert created from then on has an id above it."""
    return UUID(int=max(ms, 0) << 80 | 0x7 << 76)


def id_ms(alert_id: UUID) -> int:
    return alert_id.int >> 80


class Refused(Exception):
    """The session ended: the socket says why and closes with 4401."""


class AlertStream:
    def __init__(
        self,
        socket: WebSocket,
        subscriber: AlertSubscriber,
        agencies: set[str] | None,
        session_id: str,
        auth: AuthSettings,
    ) -> None:
        self._socket, self._subscriber, self._session_id, self._auth = socket, subscriber, session_id, auth
        self._agencies = None if agencies is None else sorted(UUID(a) for a in agencies)
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._last: UUID | None = None  # the highest id sent
        # Catch-ups never reach before this: the connection, or where a replay started. A console that
        # gave no `after` asked for nothing from before; one that did got it replayed exactly.
        self._floor = id_floor(time.time_ns() // 1_000_000)
        self.resumes: asyncio.Queue[UUID] = asyncio.Queue()

    async def replay(self, after: UUID) -> None:
        """Every visible alert with an id above `after`, in order; then {"type": "replayed"}."""
        self._floor = min(self._floor, after)
        count = await self._from_table(after)
        await self._socket.send_json({"type": "replayed", "after": str(after), "count": count})

    async def catch_up(self) -> None:
        """After the backlog overflowed: what the table holds that this socket has not sent."""
        self._subscriber.overflowed = False
        start = self._floor
        if self._last is not None:
            start = max(start, id_floor(id_ms(self._last) - OVERLAP_MS))
        await self._from_table(start)

    async def live(self, first: bytes) -> None:
        """An event off the channel and every other one waiting: sent unless sent already."""
        events = [first, *self._subscriber.drain()]
        if self._subscriber.overflowed:
            await self.catch_up()  # the table has every dropped one, and these too
        await self._check_session()
        for event in events:
            if "id" in (message := msgspec.json.decode(event)):
                await self._send(message)

    async def _from_table(self, after: UUID) -> int:
        count = 0
        while True:
            rows = await store.alerts_after(after, self._agencies, REPLAY_PAGE)
            if rows:
                await self._check_session()
            for row in rows:
                count += await self._send(row_message(row))
            if len(rows) < REPLAY_PAGE:
                return count
            after = UUID(str(rows[-1]["id"]))

    async def _send(self, message: dict) -> int:
        alert_id = message["id"]
        if alert_id in self._sent:
            return 0
        self._sent[alert_id] = None
        if len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)
        sent = UUID(alert_id)
        self._last = sent if self._last is None else max(self._last, sent)
        await self._socket.send_json(message)
        return 1

    async def _check_session(self) -> None:
        # Before every batch and every period while idle: a logged-out console hears nothing more.
        if problem := await services.session_problem(self._auth, self._session_id):
            raise Refused(problem)

    async def idle(self) -> None:
        await self._check_session()

    async def read_console(self) -> None:
        """Reads what the console sends, so a closed socket is noticed while no alert comes;
        {"type": "resume", "after": <id>} asks for a replay."""
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                raw = await self._socket.receive_data("text")
                try:
                    message = msgspec.json.decode(raw)
                except msgspec.DecodeError:
                    continue
                if not isinstance(message, dict) or message.get("type") != "resume":
                    continue
                if (after := parse_after(message.get("after"))) is None:
                    await self._socket.send_json(
                        {"type": "error", "field": "after", "detail": "after must be an alert id"}
                    )
                    continue
                await self.resumes.put(after)
