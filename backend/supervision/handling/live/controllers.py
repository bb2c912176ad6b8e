"""Live alerts for the console: a ticket endpoint and the websocket it opens.

Close code 4401 ends a socket whose caller is not (or no longer) authenticated; a final
{"type": "error", "detail": ...} message says why. 1001 (going away) ends every open socket when the
server shuts down: reconnect, to this server once it is back or to another, with ?after=<the last alert
id seen>: every alert since is replayed, then {"type": "replayed"}, then live ones. A console never
misses an alert silently, however far behind it falls.

Once authenticated, the socket subscribes first, then replays from the alerts table every alert the
officer may see with an id above the console's `after` (in id order), then sends what arrived live
meanwhile and from then on, skipping ids it has already sent: subscribe-then-replay leaves no gap, the
memory of sent ids no duplicate. Alert ids are UUIDv7, so id order is time order.

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
from litestar import WebSocket, post, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.status_codes import HTTP_201_CREATED

from backend.accounts.access import visible_agency_ids
from backend.accounts.principal import Principal
from backend.accounts.sessions import SessionService
from backend.core.errors import DomainError, NotAuthenticated
from backend.settings import AuthSettings, Settings
from backend.supervision.handling.alerts import row_message
from backend.supervision.handling.live import services
from backend.supervision.handling.live.schemas import LiveTicketOut
from backend.web.alert_channels import AlertSubscriber, LiveAlertsPlugin
from backend.web.deps import BEARER, STAFF, CurrentPrincipal

CLOSE_UNAUTHENTICATED = 4401
CLOSE_GOING_AWAY = 1001
CLOSE_BAD_REQUEST = 4400
FIRST_MESSAGE_SECONDS = 10
REPLAY_PAGE = 500  # alerts one table read sends
OVERLAP_MS = 10_000  # a catch-up re-reads this far before its cursor: late commits carry earlier ids
SENT_MEMORY = 5_000  # ids remembered per socket, so no alert goes out twice
# Each open socket in this process, by the event that ends it: set on shutdown, the socket closes itself
# with 1001 (uvicorn would close it with 1012, and only after the server had stopped listening).
_open: dict[asyncio.Event, asyncio.Event] = {}  # going away -> the handler has returned


async def close_live_sockets(wait_s: float = 5.0) -> int:
    """Server shutdown: every open live socket closes with 1001. Waits (at most `wait_s`) until their
    handlers have returned; returns how many were open."""
    handlers = list(_open.items())
    for going_away, _ in handlers:
        going_away.set()
    if handlers:
        waits = [asyncio.ensure_future(done.wait()) for _, done in handlers]
        _, pending = await asyncio.wait(waits, timeout=wait_s)
        for waiting in pending:
            waiting.cancel()
    return len(handlers)


@post(
    "/api/v1/alerts/live/tickets",
    operation_id="createLiveAlertsTicket",
    tags=["console: supervision"],
    status_code=HTTP_201_CREATED,
    dependencies=STAFF,
    security=BEARER,
    opt={"idempotency": False},
)
async def create_live_ticket(principal: CurrentPrincipal) -> LiveTicketOut:
    """A single-use ticket for the live-alerts websocket: open `/api/v1/alerts/live?ticket=<ticket>` within
    `expires_in` seconds. The socket lives as long as this session does."""
    ticket, expires_in = await services.issue_ticket(principal)
    return LiveTicketOut(ticket, expires_in)


@websocket("/api/v1/alerts/live", opt={"exclude_from_schema": True})
async def live_alerts(
    socket: WebSocket, settings: NamedDependency[Settings], sessions: NamedDependency[SessionService]
) -> None:
    """Pushes red alerts of the officer's agencies as they happen. Open it with ?ticket=<ticket> from
    POST /api/v1/alerts/live/tickets, or send {"type": "auth", "token": <access token>} as the first
    message. With ?after=<alert id> (the last one the console saw) it first replays every alert since."""
    await socket.accept()
    try:
        principal = await _authenticate(socket, settings.auth, sessions)
    except DomainError as exc:
        await _refuse(socket, exc.detail)
        return
    except WebSocketDisconnect:
        return
    after = socket.query_params.get("after")
    if after is not None and parse_after(after) is None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await socket.send_json({"type": "error", "field": "after", "detail": "after must be an alert id"})
            await socket.close(code=CLOSE_BAD_REQUEST, reason="bad after")
        return
    agencies = await visible_agency_ids(principal)
    going_away, returned = asyncio.Event(), asyncio.Event()
    _open[going_away] = returned
    try:
        async with socket.app.plugins.get(LiveAlertsPlugin).alerts_of(agencies) as subscriber:
            stream = AlertStream(socket, subscriber, agencies, principal.session_id, settings.auth)
            await socket.send_json({"type": "ready"})
            resume_after = parse_after(after) if after is not None else None
            await _stream(socket, stream, subscriber, resume_after, going_away, settings.auth)
    except (WebSocketDisconnect, asyncio.CancelledError):
        pass
    finally:
        _open.pop(going_away, None)
        returned.set()


async def _authenticate(socket: WebSocket, auth: AuthSettings, sessions: SessionService) -> Principal:
    if "token" in socket.query_params:  # the old way: the token ended up in access logs
        raise NotAuthenticated("Tokens are not accepted in the URL; use a ticket")
    ticket = socket.query_params.get("ticket")
    if ticket is not None:
        session_id = await services.claim_ticket(ticket)
        return await services.session_principal(auth, session_id)
    principal = await sessions.authenticate(await _first_message_token(socket))
    services.require_staff(principal)
    return principal


async def _first_message_token(socket: WebSocket) -> str:
    try:
        raw = await asyncio.wait_for(socket.receive_text(), FIRST_MESSAGE_SECONDS)
        message = msgspec.json.decode(raw)
    except (TimeoutError, msgspec.DecodeError):
        raise NotAuthenticated('Open with ?ticket=<ticket> or send {"type": "auth", "token": ...}') from None
    if not isinstance(message, dict):
        message = {}
    token = message.get("token")
    if message.get("type") != "auth" or not isinstance(token, str):
        raise NotAuthenticated('The first message must be {"type": "auth", "token": <access token>}')
    return token


async def _refuse(socket: WebSocket, detail: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await socket.send_json({"type": "error", "detail": detail})
        await socket.close(code=CLOSE_UNAUTHENTICATED, reason="not authenticated")


async def _stream(
    socket: WebSocket,
    stream: AlertStream,
    subscriber: AlertSubscriber,
    after: UUID | None,
    going_away: asyncio.Event,
    auth: AuthSettings,
) -> None:
    """Replays (when asked), then sends live alerts until the console leaves, the session ends or the
    server shuts down; re-checks the session every LIVE_ALERTS_RECHECK_SECONDS while idle."""
    period = auth.live_alerts_recheck_seconds
    closed = asyncio.ensure_future(stream.read_console())
    stopping = asyncio.ensure_future(going_away.wait())
    event = asyncio.ensure_future(subscriber.next_event())
    resume = asyncio.ensure_future(stream.resumes.get())
    try:
        if after is not None:
            await stream.replay(after)
        while True:
            done, _ = await asyncio.wait(
                {event, resume, closed, stopping}, timeout=period, return_when=asyncio.FIRST_COMPLETED
            )
            if closed in done:
                return
            if stopping in done:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                    await socket.close(code=CLOSE_GOING_AWAY, reason="server shutting down")
                return
            if resume in done:
                await stream.replay(resume.result())
                resume = asyncio.ensure_future(stream.resumes.get())
            if event in done:
                if (data := event.result()) is None:  # unsubscribed: the plugin is shutting down
                    return
                await stream.live(data)
                event = asyncio.ensure_future(subscriber.next_event())
            if not done:
                await stream.idle()
    except Refused as problem:
        await _refuse(socket, str(problem))
    finally:
        for waiting in (closed, stopping, event, resume):
            waiting.cancel()
        await asyncio.gather(closed, stopping, event, resume, return_exceptions=True)


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
            rows = await services.alerts_after(after, self._agencies, REPLAY_PAGE)
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
