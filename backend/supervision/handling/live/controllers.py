"""Live alerts for the console: a ticket endpoint and the websocket it opens.

Close code 4401 ends a socket whose caller is not (or no longer) authenticated; a final
{"type": "error", "detail": ...} message says why. 1001 (going away) ends every open socket when the
server shuts down: reconnect, to this server once it is back or to another, with ?after=<the last alert
id seen>: every alert since is replayed, then {"type": "replayed"}, then live ones
(backend.supervision.handling.live.stream). A console never misses an alert silently, however far behind
it falls.
"""

from __future__ import annotations

import asyncio
import contextlib
from uuid import UUID

import msgspec
from litestar import WebSocket, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.status_codes import HTTP_201_CREATED

from backend.accounts.access import visible_agency_ids
from backend.accounts.principal import Principal
from backend.core.errors import DomainError, NotAuthenticated
from backend.settings import AuthSettings
from backend.supervision.handling.alerts import AlertSubscriber, LiveAlertsPlugin
from backend.supervision.handling.live import services
from backend.supervision.handling.live.schemas import LiveTicketOut
from backend.supervision.handling.live.stream import AlertStream, Refused, parse_after
from backend.web.deps import BEARER, STAFF, CurrentPrincipal

CLOSE_UNAUTHENTICATED = 4401
CLOSE_GOING_AWAY = 1001
CLOSE_BAD_REQUEST = 4400
FIRST_MESSAGE_SECONDS = 10
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
async def live_alerts(socket: WebSocket) -> None:
    """Pushes red alerts of the officer's agencies as they happen. Open it with ?ticket=<ticket> from
    POST /api/v1/alerts/live/tickets, or send {"type": "auth", "token": <access token>} as the first
    message. With ?after=<alert id> (the last one the console saw) it first replays every alert since."""
    await socket.accept()
    try:
        principal = await _authenticate(socket)
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
            stream = AlertStream(socket, subscriber, agencies, principal.session_id, _auth_settings(socket))
            await socket.send_json({"type": "ready"})
            resume_after = parse_after(after) if after is not None else None
            await _stream(socket, stream, subscriber, resume_after, going_away)
    except (WebSocketDisconnect, asyncio.CancelledError):
        pass
    finally:
        _open.pop(going_away, None)
        returned.set()


def _auth_settings(socket: WebSocket) -> AuthSettings:
    return socket.app.state.settings.auth


async def _authenticate(socket: WebSocket) -> Principal:
    if "token" in socket.query_params:  # the old way: the token ended up in access logs
        raise NotAuthenticated("Tokens are not accepted in the URL; use a ticket")
    ticket = socket.query_params.get("ticket")
    if ticket is not None:
        session_id = await services.claim_ticket(ticket)
        return await services.session_principal(_auth_settings(socket), session_id)
    principal = await socket.app.state.sessions.authenticate(await _first_message_token(socket))
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
) -> None:
    """Replays (when asked), then sends live alerts until the console leaves, the session ends or the
    server shuts down; re-checks the session every LIVE_ALERTS_RECHECK_SECONDS while idle."""
    period = _auth_settings(socket).live_alerts_recheck_seconds
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
