"""Days are counted in the measure's own zone (issue 14): the deadline board, the digest, the ending
reminders, the face-template purge and travel dates. Between 00:00 and 08:00 in Shanghai the UTC date is
a day behind.

The clock is pinned by patching `utcnow` in the modules under test (each imports it by name), so the
session's real tokens keep working.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend.biometrics import services as biometrics_services
from backend.biometrics.tables import FaceTemplateRecord
from backend.notify.tables import Notification
from backend.supervision import jobs, reads
from backend.supervision.deadlines import board as deadlines
from backend.supervision.decisions import contests_and_travel as decisions
from backend.supervision.measures.tables import Measure
from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place

MORNING = datetime(2026, 6, 1, 1, 30, tzinfo=UTC)  # 09:30 on 1 June in Shanghai; 21:30 on 31 May in New York
NIGHT = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # 04:00 on 2 June in Shanghai; 16:00 on 1 June in New York


def pin(monkeypatch, at: datetime) -> None:
    for module in (deadlines, jobs, decisions, biometrics_services):
        monkeypatch.setattr(module, "utcnow", lambda: at)


async def placed(client, officer, end: date, zone: str = "Asia/Shanghai") -> dict:
    case = await enrol_and_place(client, officer)
    await Measure.update({Measure.end_date: end, Measure.timezone: zone}).where(
        Measure.id == case["measure"]["id"]
    )
    return case


async def deadline_board(client, prosecutor) -> dict[str, dict]:
    """measure id -> (the board's list it is on, its row)."""
    board = await client.get("/api/v1/supervision/deadlines", headers=bearer(prosecutor))
    assert board.status_code == 200, board.text
    return {
        row["measure_id"]: {"list": name, **row}
        for name, rows in board.json().items()
        if name != "inactive"
        for row in rows
    }


@pytest.fixture
async def staff(client, demo_logins):
    return await demo_staff(client, demo_logins, "officer"), await demo_staff(
        client, demo_logins, "prosecutor"
    )


async def test_a_measure_that_ended_yesterday_in_shanghai_is_overdue_before_8_utc(client, staff, monkeypatch):
    officer, prosecutor = staff
    ended = await placed(client, officer, date(2026, 6, 1))
    pin(monkeypatch, MORNING)  # 1 June in Shanghai: its last day
    row = (await deadline_board(client, prosecutor))[ended["measure"]["id"]]
    assert (row["list"], row["days_left"]) == ("ending_within_1_day", 0)
    pin(monkeypatch, NIGHT)  # still 1 June in UTC, already 2 June in Shanghai
    row = (await deadline_board(client, prosecutor))[ended["measure"]["id"]]
    assert (row["list"], row["days_left"]) == ("overdue", -1)


async def test_days_left_are_counted_in_each_measures_zone(client, staff, monkeypatch):
    officer, prosecutor = staff
    shanghai = await placed(client, officer, date(2026, 6, 8))
    new_york = await placed(client, officer, date(2026, 6, 8), "America/New_York")
    pin(monkeypatch, NIGHT)  # 2 June in Shanghai, 1 June in New York
    board = await deadline_board(client, prosecutor)
    assert board[shanghai["measure"]["id"]]["days_left"] == 6
    assert board[new_york["measure"]["id"]]["days_left"] == 7
    pin(monkeypatch, MORNING)  # 1 June in Shanghai, still 31 May in New York
    board = await deadline_board(client, prosecutor)
    assert board[shanghai["measure"]["id"]]["days_left"] == 7
    row = board[new_york["measure"]["id"]]
    assert (row["list"], row["days_left"]) == ("ending_within_30_days", 8)


async def test_the_daily_digest_is_one_per_local_day(client, staff):
    # 01:30 UTC and 20:00 UTC on 1 June are 1 and 2 June in Shanghai: two days, two digests.
    assert await deadlines.send_daily_digests(now=MORNING) >= 1
    assert await deadlines.send_daily_digests(now=MORNING) == 0
    assert await deadlines.send_daily_digests(now=NIGHT) >= 1


async def test_the_ending_reminder_counts_the_persons_days(client, staff):
    officer, _ = staff
    case = await placed(client, officer, date(2026, 6, 3))
    await jobs.send_reminders(now=NIGHT)  # 2 June in Shanghai: the measure ends tomorrow
    ending = await Notification.select(Notification.body).where(
        (Notification.user == case["person_id"]) & (Notification.kind == "measure_ending")
    )
    assert ending and "2026-06-03" in ending[0]["body"]


async def template_of(case: dict) -> None:
    await FaceTemplateRecord(
        person=case["person_id"],
        measure=case["measure"]["id"],
        sealed=b"sealed",
        model="test",
        enrolled_by="test",
    ).save()


async def has_template(case: dict) -> bool:
    return await FaceTemplateRecord.exists().where(FaceTemplateRecord.person == case["person_id"])


async def test_the_purge_removes_the_template_of_a_measure_that_ended_yesterday_in_its_zone(
    client, staff, app, monkeypatch
):
    officer, _ = staff
    ended = await placed(client, officer, date(2026, 6, 1))
    last_day = await placed(client, officer, date(2026, 6, 2))
    for case in (ended, last_day):
        await template_of(case)
    pin(monkeypatch, NIGHT)  # 2 June in Shanghai
    await app.state.services.biometrics.purge_ended()
    assert not await has_template(ended)
    assert await has_template(last_day)


async def test_the_purge_keeps_a_template_while_its_measure_still_runs_in_its_zone(
    client, staff, app, monkeypatch
):
    officer, _ = staff
    new_york = await placed(client, officer, date(2026, 5, 31), "America/New_York")
    shanghai = await placed(client, officer, date(2026, 5, 31))
    for case in (new_york, shanghai):
        await template_of(case)
    pin(monkeypatch, MORNING)  # 1 June in Shanghai, still 31 May (the last day) in New York
    await app.state.services.biometrics.purge_ended()
    assert await has_template(new_york)
    assert not await has_template(shanghai)


async def request_trip(client, case: dict, depart: date):
    return await client.post(
        "/m/v1/travel-requests",
        json={
            "depart_on": depart.isoformat(),
            "return_on": date(2026, 6, 5).isoformat(),
            "destination": "Hangzhou",
            "reason": "Hospital appointment",
        },
        headers=bearer(case["phone"]),
    )


async def test_a_trip_starting_today_in_the_zone_is_not_in_the_past(client, staff, monkeypatch):
    officer, _ = staff
    new_york = await placed(client, officer, date(2026, 6, 30), "America/New_York")
    pin(monkeypatch, MORNING)  # 31 May in New York, 1 June in UTC
    trip = await request_trip(client, new_york, date(2026, 5, 31))
    assert trip.status_code == 201, trip.text


async def test_a_trip_starting_yesterday_in_the_zone_is_in_the_past(client, staff, monkeypatch):
    officer, _ = staff
    shanghai = await placed(client, officer, date(2026, 6, 30))
    pin(monkeypatch, NIGHT)  # 2 June in Shanghai, 1 June in UTC
    past = await request_trip(client, shanghai, date(2026, 6, 1))
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "depart_on", past.text
    today = await request_trip(client, shanghai, date(2026, 6, 2))
    assert today.status_code == 201, today.text


async def test_the_board_filter_due_within_days_counts_in_each_zone(client, staff, monkeypatch):
    officer, _ = staff
    shanghai = await placed(client, officer, date(2026, 6, 2))
    new_york = await placed(client, officer, date(2026, 6, 2), "America/New_York")
    monkeypatch.setattr(reads, "utcnow", lambda: NIGHT)  # 2 June in Shanghai, 1 June in New York
    board = await client.get(
        "/api/v1/supervision/board", params={"due_within_days": 0, "limit": 200}, headers=bearer(officer)
    )
    assert board.status_code == 200, board.text
    due = {row["measure_id"] for row in board.json()["items"]}
    assert shanghai["measure"]["id"] in due  # its last day, in Shanghai
    assert new_york["measure"]["id"] not in due  # tomorrow, in New York
