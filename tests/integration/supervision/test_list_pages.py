"""Issue 14: every list is a page, `{items, next_cursor}` with `limit` and `cursor`; limit=1 walks the whole
list one distinct item at a time and ends with a null next_cursor; a cursor the API did not issue is a 422
naming `cursor`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.core.clock import utcnow
from backend.core.pagination import encode_cursor, encode_keys
from backend.ops.tables import RateHit
from tests.support.api import bearer, demo_staff, phone_login
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place, miss

# Cursors no list issued: text where an id or a time is, keys of the wrong shape, not base64 at all.
FOREIGN = [
    encode_keys("not-an-id"),
    encode_keys("not-a-time", "x"),
    "not base64 at all!",
    encode_cursor("a|b|c|d"),
]
FOREIGN += [encode_keys(2**70), encode_keys(utcnow(), 0, 2**70)]  # beyond what a 64-bit key holds


def _key(item: dict) -> str:
    return str(item.get("id") or (item["kind"], item["ref_id"], item["at"]))


async def walk(client, path: str, headers: dict, **params) -> list[dict]:
    """The list one item per page; every page distinct, the last with a null next_cursor, and together the
    same list, in the same order, as pages of 200 (the suite may have made more than 200 of them)."""
    seen = await _pages(client, path, headers, 1, params)
    keys = [_key(i) for i in seen]
    assert len(keys) == len(set(keys)), f"{path}: an item came twice"
    whole = await _pages(client, path, headers, 200, params)
    assert [_key(i) for i in whole] == keys, f"{path}: pages are not the list in order"
    return seen


async def _pages(client, path: str, headers: dict, limit: int, params: dict) -> list[dict]:
    seen, cursor = [], None
    for _ in range(5000):
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, (path, response.text)
        page = response.json()
        assert set(page) == {"items", "next_cursor"}, path
        assert len(page["items"]) <= limit
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError(f"{path}: no last page after 5000 pages")


async def refuses_foreign_cursors(client, path: str, headers: dict) -> None:
    for cursor in FOREIGN:
        response = await client.get(path, params={"cursor": cursor}, headers=headers)
        assert response.status_code == 422, (path, cursor, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"], response.text
    for limit in (0, 201):
        assert (await client.get(path, params={"limit": limit}, headers=headers)).status_code in (400, 422)


@pytest.fixture
async def busy_case(client, demo_logins):
    """A measure with two or more of everything a list shows."""
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await acknowledge(client, phone)
    await miss(client, officer, measure_id, times=2)
    for _ in range(2):
        done = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))
        assert done.status_code == 201, done.text
    ledger = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"]
    for entry in ledger[:2]:
        contest = await client.post(
            f"/m/v1/ledger/{entry['id']}/contests", json={"text": "I was at hospital"}, headers=bearer(phone)
        )
        assert contest.status_code == 201, contest.text
    for days in (3, 10):
        depart = date.today() + timedelta(days=days)
        trip = await client.post(
            "/m/v1/travel-requests",
            json={
                "depart_on": depart.isoformat(),
                "return_on": (depart + timedelta(days=1)).isoformat(),
                "destination": "Shanghai",
                "reason": "Hospital",
            },
            headers=bearer(phone),
        )
        assert trip.status_code == 201, trip.text
    for hours in (30, 20):  # issued in the other order than they fall: the list goes by date
        summons = await client.post(
            f"/api/v1/measures/{measure_id}/summonses",
            json={"at": (utcnow() + timedelta(hours=hours)).isoformat(), "place": "Xihu PSB, room 3"},
            headers=bearer(officer),
        )
        assert summons.status_code == 201, summons.text
    for _ in range(3):  # 100 -> 80 -> 60 -> 40: red, an alert
        await client.post(
            f"/api/v1/measures/{measure_id}/violations",
            json={"rule_id": "missed_summons", "reason": "Did not appear"},
            headers=bearer(officer),
        )
    return case


async def test_every_list_of_a_measure_pages_with_limit_and_cursor(client, busy_case):
    officer, phone = bearer(busy_case["officer"]), bearer(busy_case["phone"])
    measure = f"/api/v1/measures/{busy_case['measure']['id']}"
    console = ["/ledger", "/checkins", "/windows", "/timeline", "/contests", "/travel-requests", "/summonses"]
    for path in console:
        items = await walk(client, measure + path, officer)
        assert len(items) >= 2, path
        await refuses_foreign_cursors(client, measure + path, officer)
    mine = ["/m/v1/measure/ledger", "/m/v1/checkins", "/m/v1/contests", "/m/v1/travel-requests"]
    mine += ["/m/v1/summonses", "/m/v1/inbox", "/m/v1/measure/windows"]
    for path in mine:
        items = await walk(client, path, phone)
        assert len(items) >= (1 if path.endswith("windows") else 2), path
        await refuses_foreign_cursors(client, path, phone)

    ledger = await walk(client, measure + "/ledger", officer)
    assert [e["id"] for e in ledger] == sorted(e["id"] for e in ledger), "oldest first"
    summonses = await walk(client, measure + "/summonses", officer)
    assert [s["at"] for s in summonses] == sorted(s["at"] for s in summonses), "by date"
    timeline = await walk(client, measure + "/timeline", officer)
    assert [i["at"] for i in timeline] == sorted((i["at"] for i in timeline), reverse=True), "newest first"
    kinds = {i["kind"] for i in timeline}
    assert {"ledger.missed_checkin", "notice.acknowledged", "contest.pending", "travel.pending"} <= kinds


async def test_agency_lists_and_sessions_page_too(client, demo_logins, busy_case):
    officer = bearer(busy_case["officer"])
    for path, params in (
        ("/api/v1/tasks", {}),
        ("/api/v1/alerts", {}),
        ("/api/v1/tasks", {"status": "done"}),
    ):
        await walk(client, path, officer, **params)
        await refuses_foreign_cursors(client, path, officer)
    assert len(await walk(client, "/api/v1/tasks", officer)) >= 2
    assert len(await walk(client, "/api/v1/alerts", officer)) >= 1
    unknown = await client.get("/api/v1/tasks", params={"status": "lost"}, headers=officer)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "status"

    # Two measures handed to the procuratorate: its incoming list pages.
    prosecutor = bearer(await demo_staff(client, demo_logins, "prosecutor"))
    agencies = (await client.get("/api/v1/agencies", params={"limit": 200}, headers=officer)).json()["items"]
    to = next(a for a in agencies if a["kind"] == "procuratorate" and a["region_code"] == "330100")
    for _ in range(2):
        other = await enrol_and_place(client, busy_case["officer"])
        sent = await client.post(
            f"/api/v1/measures/{other['measure']['id']}/transfers",
            json={"to_agency_id": to["id"], "to_stage": "prosecution"},
            headers=officer,
        )
        assert sent.status_code == 201, sent.text
    assert len(await walk(client, "/api/v1/transfers/incoming", prosecutor)) >= 2
    await refuses_foreign_cursors(client, "/api/v1/transfers/incoming", prosecutor)

    # Two logins of one phone: two sessions, newest first.
    number = busy_case["phone"]["phone"]
    await RateHit.update({RateHit.at: utcnow() - timedelta(minutes=2)}).where(RateHit.key == number)
    again = await phone_login(client, number)
    sessions = await walk(client, "/m/v1/me/sessions", bearer(again))
    ids = [s["id"] for s in sessions]
    assert ids[:2] == [again["session_id"], busy_case["phone"]["session_id"]]
    assert [s["current"] for s in sessions[:2]] == [True, False]
    await refuses_foreign_cursors(client, "/m/v1/me/sessions", bearer(again))
