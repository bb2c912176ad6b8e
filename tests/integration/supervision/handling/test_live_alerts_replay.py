"""Live alerts never drop: a console that reconnects with the last id it saw gets exactly what it missed,
an alert raised through one server reaches a socket on another (Redis), and a flood larger than any
queue reaches a slow console complete. Real server processes, on both databases."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
import websockets

from backend.core.clock import utcnow
from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import write_tx
from backend.settings import SettingsError, get_settings, load_settings
from backend.supervision.handling import alerts
from backend.web.alert_channels import QUEUE_SIZE
from tests.support.api import bearer, demo_staff
from tests.support.live_server import live_server
from tests.support.supervision import enrol_and_place

REDIS = "redis://127.0.0.1:6379"


@pytest.fixture(scope="module")
def server_url():
    with live_server() as url:
        yield url


@pytest.fixture
def redis_url():
    """A Redis database of this test's own. Redis is a service CI runs: missing there, the test fails."""
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not running at {REDIS}")
        pytest.skip(f"Redis is not running at {REDIS}")
    finally:
        client.close()
    return f"{REDIS}/{1 + secrets.randbelow(15)}"


async def socket_url(http: httpx.AsyncClient, officer: dict, query: str = "") -> str:
    issued = await http.post("/api/v1/alerts/live/tickets", headers=bearer(officer))
    assert issued.status_code == 201, issued.text
    base = str(http.base_url).rstrip("/").replace("http", "ws", 1)
    return f"{base}/api/v1/alerts/live?ticket={issued.json()['ticket']}{query}"


async def receive(socket, seconds: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), seconds))


async def nothing_more(socket, seconds: float) -> bool:
    try:
        extra = await receive(socket, seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected {extra}")


async def agency_of(username: str) -> str:
    row = await sql.fetch_one("SELECT agency FROM users WHERE username = $1", username)
    return str(row["agency"])


async def insert_alerts(measure_id: str, agency_id: str, texts: list[str]) -> list[str]:
    """Alerts committed by another process (as the scheduler's sweep commits them), in id order."""
    ids = []
    async with write_tx():
        for text in texts:
            alert_id = uuid7()
            await sql.execute(
                "INSERT INTO alerts (id, measure, agency, level, message, created_at) "
                "VALUES ($1, $2, $3, 'red', $4, $5)",
                alert_id,
                measure_id,
                agency_id,
                text,
                utcnow(),
            )
            ids.append(str(alert_id))
            await asyncio.sleep(0.002)  # ids of distinct milliseconds: their order is the order raised
    return ids


async def turn_red(http: httpx.AsyncClient, officer: dict, measure_id: str) -> None:
    for _ in range(3):  # 100 -> 80 -> 60 -> 40: red, raised in the server that takes the request
        recorded = await http.post(
            f"/api/v1/measures/{measure_id}/violations",
            json={"rule_id": "missed_summons", "reason": "Did not appear as summoned"},
            headers=bearer(officer),
        )
        assert recorded.status_code == 201, recorded.text


async def alerts_until_replayed(socket) -> tuple[list[dict], dict]:
    alerts = []
    while (message := await receive(socket))["type"] == "alert":
        alerts.append(message)
    assert message["type"] == "replayed", message
    return alerts, message


async def test_a_console_that_reconnects_gets_exactly_the_alerts_it_missed(client, server_url, demo_logins):
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        measure_id = (await enrol_and_place(http, officer))["measure"]["id"]
        async with websockets.connect(await socket_url(http, officer)) as socket:
            assert await receive(socket) == {"type": "ready"}
            await turn_red(http, officer, measure_id)
            first = await receive(socket)
        assert first["type"] == "alert" and first["measure_id"] == measure_id

        # While the console is away: three alerts it may see, one of an agency it may not.
        missed = await insert_alerts(measure_id, await agency_of("officer"), ["one", "two", "three"])
        await insert_alerts(measure_id, await agency_of("judge"), ["the court's"])

        async with websockets.connect(await socket_url(http, officer, f"&after={first['id']}")) as socket:
            assert await receive(socket) == {"type": "ready"}
            replayed, done = await alerts_until_replayed(socket)
            assert [a["id"] for a in replayed] == missed
            assert [a["message"] for a in replayed] == ["one", "two", "three"]
            assert done == {"type": "replayed", "after": first["id"], "count": 3}
            # Then live, and the server's table feed sees the missed ones again: none comes twice.
            later = await insert_alerts(measure_id, await agency_of("officer"), ["four"])
            assert (await receive(socket))["id"] == later[0]
            with pytest.raises(asyncio.TimeoutError):
                await receive(socket, 2.5)

        # The same replay asked for on an open socket, and a resume point that is no alert id.
        async with websockets.connect(await socket_url(http, officer)) as socket:
            assert await receive(socket) == {"type": "ready"}
            await socket.send(json.dumps({"type": "resume", "after": missed[0]}))
            replayed, done = await alerts_until_replayed(socket)
            assert [a["id"] for a in replayed] == [*missed[1:], *later] and done["count"] == 3
            await socket.send(json.dumps({"type": "resume", "after": "yesterday"}))
            assert await receive(socket) == {
                "type": "error",
                "field": "after",
                "detail": "after must be an alert id",
            }
        async with websockets.connect(await socket_url(http, officer, "&after=yesterday")) as socket:
            assert (await receive(socket))["field"] == "after"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await receive(socket)
            assert closed.value.rcvd.code == 4400


async def test_a_flood_larger_than_any_queue_reaches_a_slow_console_complete(client, demo_logins):
    printed: list[str] = []
    with live_server(output=printed) as url:
        await _flood(url, demo_logins)
    # The console's backlog did overflow, and the socket caught up from the table instead of dropping.
    assert any("backlog full" in line for line in printed), "".join(printed)


async def _flood(url: str, demo_logins: dict) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        measure_id = (await enrol_and_place(http, officer))["measure"]["id"]
        # max_queue=1: the client stops reading once one message waits, so the server's sends block
        # and its backlog for this console overflows.
        async with websockets.connect(await socket_url(http, officer), max_queue=1) as socket:
            assert await receive(socket) == {"type": "ready"}
            flood = await insert_alerts(
                measure_id, await agency_of("officer"), [f"flood {n}" for n in range(QUEUE_SIZE * 4)]
            )
            await asyncio.sleep(3)  # the server's feed publishes them all while the console reads nothing
            received = [(await receive(socket))["id"] for _ in flood]
            assert await nothing_more(socket, 2) and received == flood


async def test_with_redis_an_alert_raised_through_one_server_reaches_a_socket_on_another(
    client, redis_url, demo_logins, monkeypatch
):
    env = {"REDIS_URL": redis_url}
    with live_server(extra_env=env) as first_url, live_server(extra_env=env) as second_url:
        async with (
            httpx.AsyncClient(base_url=first_url, timeout=30) as first,
            httpx.AsyncClient(base_url=second_url, timeout=30) as second,
        ):
            officer = await demo_staff(first, demo_logins, "officer")
            measure_id = (await enrol_and_place(first, officer))["measure"]["id"]
            async with websockets.connect(await socket_url(second, officer)) as socket:
                assert await receive(socket) == {"type": "ready"}
                started = utcnow()
                await turn_red(first, officer, measure_id)
                alert = await receive(socket, 5)
                assert utcnow() - started < timedelta(seconds=5)
                assert alert["type"] == "alert" and alert["measure_id"] == measure_id
                # With Redis no server tails the table, so the channel carried that one: an alert committed
                # and never published reaches the console only when it resumes.
                unpublished = await insert_alerts(measure_id, await agency_of("officer"), ["unpublished"])
                with pytest.raises(asyncio.TimeoutError):
                    await receive(socket, 2.5)
                # A process with no server (the scheduler; here this test's) publishes straight to Redis.
                settings = replace(get_settings(), redis_url=redis_url)
                monkeypatch.setattr(alerts, "get_settings", lambda: settings)
                assert alerts.running_publisher() is None
                swept = await insert_alerts(measure_id, await agency_of("officer"), ["swept"])
                row = await sql.fetch_one("SELECT * FROM alerts WHERE id = $1", swept[0])
                await alerts.publish_alert(str(row["agency"]), alerts.row_message(row))
                assert (await receive(socket, 5))["id"] == swept[0]
            resumed = await socket_url(second, officer, f"&after={alert['id']}")
            async with websockets.connect(resumed) as socket:
                assert await receive(socket) == {"type": "ready"}
                replayed, _ = await alerts_until_replayed(socket)
            assert [a["id"] for a in replayed] == [*unpublished, *swept]


def test_redis_url_is_checked_without_echoing_it(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "http://user:hunter2@cache:6379")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.variables == ["REDIS_URL"] and "hunter2" not in str(caught.value)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert load_settings().redis_url == "redis://127.0.0.1:6379/3"
    assert alerts.channel_namespace(load_settings().redis_url) == "3"


async def test_a_broken_channel_stream_is_listened_to_again_and_sockets_catch_up(monkeypatch):
    """Redis restarts: the plugin's stream fails. Alerts published meanwhile were lost on the channel; the
    socket wakes, catches up from the table, and live alerts flow again."""
    from litestar.channels.backends.memory import MemoryChannelsBackend

    from backend.settings import AuthSettings
    from backend.supervision.handling.live import controllers as live_stream
    from backend.supervision.handling.live import store as live_store
    from backend.web.alert_channels import LiveAlertsPlugin

    class FlakyBackend(MemoryChannelsBackend):
        failures = 1

        async def stream_events(self):
            if self.failures:
                self.failures -= 1
                await asyncio.sleep(0.2)
                raise ConnectionError("Redis went away")
            async for event in super().stream_events():
                yield event

    table: list[dict] = []

    async def alerts_after(after, agencies, limit):
        return [row for row in table if row["id"] > after][:limit]

    async def alive(auth, session_id):
        return None

    monkeypatch.setattr(live_store, "alerts_after", alerts_after)
    monkeypatch.setattr(live_stream.services, "session_problem", alive)
    agency = "00000000-0000-7000-8000-000000000002"
    plugin = LiveAlertsPlugin(FlakyBackend(), "test")
    sent: list[dict] = []

    class Socket:
        async def send_json(self, message: dict) -> None:
            sent.append(message)

    async with plugin, plugin.alerts_of({agency}) as subscriber:
        stream = live_stream.AlertStream(Socket(), subscriber, {agency}, "session", AuthSettings())
        await asyncio.sleep(0.002)
        row = {"id": uuid7(), "measure": "m", "agency": agency, "level": "red", "message": "while away"}
        table.append(row | {"created_at": utcnow()})  # committed while the stream was down
        await stream.live(await asyncio.wait_for(subscriber.next_event(), 5))  # the wake-up
        assert [m["message"] for m in sent] == ["while away"]
        later = alerts.alert_message(uuid7(), "m", "red", "after", utcnow())
        await plugin.wait_published(later, alerts.channel_names("test", [agency]))
        await stream.live(await asyncio.wait_for(subscriber.next_event(), 5))
    assert [m["message"] for m in sent] == ["while away", "after"]
