"""Red alerts reach the officer's console live over the websocket, in a real server process."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.support.api import bearer, demo_staff
from tests.support.live_server import live_server
from tests.support.supervision import enrol_and_place


@pytest.fixture(scope="module")
def server_url():
    """One real server process for this module's tests (starting one takes seconds)."""
    with live_server() as url:
        yield url


async def live_url(http: httpx.AsyncClient, url: str, tokens: dict) -> str:
    """The websocket URL with a fresh single-use ticket (tokens never go in a URL)."""
    issued = await http.post("/api/v1/alerts/live/tickets", headers=bearer(tokens))
    assert issued.status_code == 201, issued.text
    return url.replace("http", "ws", 1) + f"/api/v1/alerts/live?ticket={issued.json()['ticket']}"


async def _officer_and_case(http: httpx.AsyncClient, demo_logins: dict) -> tuple[dict, str]:
    officer = await demo_staff(http, demo_logins, "officer")
    case = await enrol_and_place(http, officer)
    return officer, case["measure"]["id"]


async def test_code_red_is_pushed_to_the_console_websocket(server_url, demo_logins):
    url = server_url
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        officer, measure_id = await _officer_and_case(http, demo_logins)
        ws_url = url.replace("http", "ws") + "/api/v1/alerts/live"

        async with websockets.connect(f"{ws_url}?ticket=not-a-ticket") as bad:
            assert json.loads(await bad.recv())["type"] == "error"

        async with websockets.connect(await live_url(http, url, officer)) as socket:
            assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "ready"}
            for _ in range(3):  # 100 -> 80 -> 60 -> 40: red
                recorded = await http.post(
                    f"/api/v1/measures/{measure_id}/violations",
                    json={"rule_id": "missed_summons", "reason": "Did not appear at 09:00 as summoned"},
                    headers=bearer(officer),
                )
                assert recorded.status_code == 201, recorded.text
            alert = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert alert["type"] == "alert" and alert["level"] == "red" and alert["measure_id"] == measure_id
        listed = await http.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(officer))
        ledger = listed.json()["items"]
        assert [(e["event"], e["points"]) for e in ledger] == [("missed_summons", -20)] * 3
        bad_rule = await http.post(
            f"/api/v1/measures/{measure_id}/violations",
            json={"rule_id": "compliant_30_days", "reason": "x"},
            headers=bearer(officer),
        )
        assert bad_rule.status_code == 422 and bad_rule.json()["errors"][0]["field"] == "rule_id"


async def test_code_red_raised_by_the_scheduler_process_reaches_the_console(server_url, demo_logins):
    """The missed-window sweep runs in the scheduler, not in the server that holds the websockets: the
    server must still push its red alert. Here this test process plays the scheduler."""
    from tests.support.supervision import miss

    url = server_url
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        officer, measure_id = await _officer_and_case(http, demo_logins)
        async with websockets.connect(await live_url(http, url, officer)) as socket:
            assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "ready"}
            await miss(http, officer, measure_id, 9)  # 100 - 9 x 5 = 55: red, swept in this process
            alert = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert alert["type"] == "alert" and alert["measure_id"] == measure_id
            assert alert["level"] == "red" and "score 55" in alert["message"]
            with pytest.raises(asyncio.TimeoutError):  # pushed once, not again on the next polls
                await asyncio.wait_for(socket.recv(), 2.5)
