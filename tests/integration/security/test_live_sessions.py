"""The live-alerts websocket opens with a single-use ticket and lives only as long as its session.

Against a real two-worker server: a ticket is issued by one process and may be claimed in the other, and
PostgreSQL runs the racing claims side by side.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
import websockets

from backend.accounts.tables import AuthSession
from backend.core.clock import utcnow
from backend.core.crypto import sha256_hex
from backend.settings import AuthSettings
from backend.supervision.handling.alerts import alert_message
from backend.supervision.handling.live.tables import LiveTicket
from tests.support.api import bearer, demo_staff
from tests.support.live_server import live_server
from tests.support.supervision import enrol_and_place

RECHECK_SECONDS = "0.5"


@pytest.fixture(scope="module")
def server_url():
    env = {"WEB_WORKERS": "2", "LIVE_ALERTS_RECHECK_SECONDS": RECHECK_SECONDS}
    with live_server(extra_env=env) as url:
        yield url


def ws_base(url: str) -> str:
    return url.replace("http", "ws", 1) + "/api/v1/alerts/live"


async def ticket(http: httpx.AsyncClient, tokens: dict) -> str:
    issued = await http.post("/api/v1/alerts/live/tickets", headers=bearer(tokens))
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert 0 < body["expires_in"] <= 60
    return body["ticket"]


async def refused(socket) -> dict:
    """The final error message of a socket the server ends, after checking it closes with 4401."""
    message = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert message["type"] == "error" and message["detail"]
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    return message


async def ready(socket) -> None:
    assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "ready"}


async def test_a_ticket_opens_the_socket_once_and_alerts_arrive(server_url, demo_logins):
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        measure_id = (await enrol_and_place(http, officer))["measure"]["id"]
        once = await ticket(http, officer)
        async with websockets.connect(f"{ws_base(server_url)}?ticket={once}") as socket:
            await ready(socket)
            for _ in range(3):  # 100 -> 40: red
                recorded = await http.post(
                    f"/api/v1/measures/{measure_id}/violations",
                    json={"rule_id": "missed_summons", "reason": "Did not appear as summoned"},
                    headers=bearer(officer),
                )
                assert recorded.status_code == 201, recorded.text
            alert = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert alert["type"] == "alert" and alert["measure_id"] == measure_id
            async with websockets.connect(f"{ws_base(server_url)}?ticket={once}") as again:
                await refused(again)


async def test_expired_tickets_the_old_token_url_and_phone_users_are_refused(server_url, demo_logins):
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        stale = await ticket(http, officer)
        await LiveTicket.update({LiveTicket.expires_at: utcnow() - timedelta(seconds=1)}).where(
            LiveTicket.ticket_hash == sha256_hex(stale)
        )
        async with websockets.connect(f"{ws_base(server_url)}?ticket={stale}") as socket:
            assert "expired" in (await refused(socket))["detail"]
        async with websockets.connect(f"{ws_base(server_url)}?token={officer['access_token']}") as socket:
            await refused(socket)
        unauthenticated = await http.post("/api/v1/alerts/live/tickets")
        assert unauthenticated.status_code == 401


async def test_concurrent_claims_of_one_ticket_open_exactly_one_socket(server_url, demo_logins):
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        shared = await ticket(http, officer)

        async def first_message(_):
            async with websockets.connect(f"{ws_base(server_url)}?ticket={shared}") as socket:
                return json.loads(await asyncio.wait_for(socket.recv(), 10))["type"]

        kinds = await asyncio.gather(*(first_message(n) for n in range(8)))
    assert sorted(kinds) == ["error"] * 7 + ["ready"]


async def test_logout_closes_an_open_socket(server_url, demo_logins):
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        url = f"{ws_base(server_url)}?ticket={await ticket(http, officer)}"
        async with websockets.connect(url) as socket:
            await ready(socket)
            logout = await http.post("/api/v1/auth/logout", headers=bearer(officer))
            assert logout.status_code == 204
            assert "ended" in (await refused(socket))["detail"]


async def test_a_session_gone_idle_closes_its_socket_and_a_first_message_token_works(server_url, demo_logins):
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        async with websockets.connect(ws_base(server_url)) as socket:
            await socket.send(json.dumps({"type": "auth", "token": officer["access_token"]}))
            await ready(socket)
            await AuthSession.update({AuthSession.last_seen_at: utcnow() - timedelta(days=1)}).where(
                AuthSession.id == officer["session_id"]
            )
            assert "idle" in (await refused(socket))["detail"]
        async with websockets.connect(ws_base(server_url)) as socket:
            await socket.send(json.dumps({"type": "auth", "token": "not-a-token"}))
            await refused(socket)


class _FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send_json(self, message: dict) -> None:
        self.sent.append(message)


async def test_a_console_that_falls_behind_catches_up_from_the_table(monkeypatch):
    """The backlog holds 2; 5 alerts come while the console is busy. The plugin drops 3, and the socket
    fetches them from the alerts table: the console gets all 5, once each, in order."""
    from litestar.channels.backends.memory import MemoryChannelsBackend

    from backend.core.ids import uuid7
    from backend.supervision.handling.alerts import channel_names
    from backend.supervision.handling.live import controllers as live_stream
    from backend.supervision.handling.live import store as live_store
    from backend.web.alert_channels import LiveAlertsPlugin

    table: list[dict] = []

    async def alerts_after(after, agencies, limit):
        return [row for row in table if row["id"] > after][:limit]

    async def alive(auth, session_id):
        return None

    monkeypatch.setattr(live_store, "alerts_after", alerts_after)
    monkeypatch.setattr(live_stream.services, "session_problem", alive)
    plugin = LiveAlertsPlugin(MemoryChannelsBackend(), "test")
    plugin._max_backlog = 2
    agency = "00000000-0000-7000-8000-000000000001"
    async with plugin, plugin.alerts_of({agency}) as subscriber:
        socket = _FakeSocket()
        stream = live_stream.AlertStream(socket, subscriber, {agency}, "session", AuthSettings())
        await asyncio.sleep(0.002)  # the alerts come after the console connected
        table.extend(
            {"id": uuid7(), "measure": "m", "agency": "a", "level": "red", "message": f"alert {n}",
             "created_at": utcnow()}
            for n in range(5)
        )  # fmt: skip
        for row in table:
            await plugin.wait_published(alert_message(**_fields(row)), channel_names("test", [agency]))
        await asyncio.sleep(0.1)  # the plugin hands events to the backlog
        assert subscriber.overflowed and subscriber.qsize == 2
        await stream.live(await subscriber.next_event())
    assert [m["message"] for m in socket.sent] == [f"alert {n}" for n in range(5)]


def _fields(row: dict) -> dict:
    return {
        "alert_id": row["id"],
        "measure_id": row["measure"],
        "level": row["level"],
        "message": row["message"],
        "created_at": row["created_at"],
    }
