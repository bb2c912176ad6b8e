"""The deadline board and its daily digest; activity takes a quiet measure off the inactive list."""

from __future__ import annotations

from datetime import date, timedelta

from backend.core.clock import utcnow
from backend.supervision import jobs
from backend.supervision.measures.tables import Measure
from tests.support.api import bearer, demo_staff
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place, open_window


async def test_deadline_board_and_daily_digest(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    soon = await enrol_and_place(client, officer)
    overdue = await enrol_and_place(client, officer)
    quiet = await enrol_and_place(client, officer)
    today = date.today()
    await Measure.update({Measure.end_date: today + timedelta(days=5)}).where(
        Measure.id == soon["measure"]["id"]
    )
    await Measure.update({Measure.end_date: today - timedelta(days=2)}).where(
        Measure.id == overdue["measure"]["id"]
    )
    await Measure.update({Measure.last_activity_at: utcnow() - timedelta(days=40)}).where(
        Measure.id == quiet["measure"]["id"]
    )
    board = (
        await client.get(
            "/api/v1/supervision/deadlines", params={"inactive_days": 30}, headers=bearer(prosecutor)
        )
    ).json()
    assert soon["measure"]["id"] in {m["measure_id"] for m in board["ending_within_7_days"]}, board
    assert overdue["measure"]["id"] in {m["measure_id"] for m in board["overdue"]}
    assert quiet["measure"]["id"] in {m["measure_id"] for m in board["inactive"]}
    assert soon["measure"]["id"] not in {m["measure_id"] for m in board["ending_within_1_day"]}
    first = await jobs.deadlines.send_daily_digests()
    assert first >= 1
    assert await jobs.deadlines.send_daily_digests() == 0


async def test_a_check_in_or_an_upload_takes_a_quiet_measure_off_the_inactive_list(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    cases = [await enrol_and_place(client, officer) for _ in range(2)]

    async def inactive() -> set[str]:
        board = await client.get(
            "/api/v1/supervision/deadlines", params={"inactive_days": 30}, headers=bearer(prosecutor)
        )
        return {m["measure_id"] for m in board.json()["inactive"]}

    ids = [case["measure"]["id"] for case in cases]
    for case in cases:
        await acknowledge(client, case["phone"])
    await Measure.update({Measure.last_activity_at: utcnow() - timedelta(days=40)}).where(
        Measure.id.is_in(ids)
    )
    assert set(ids) <= await inactive()
    window = await open_window(client, officer, ids[0])
    checkin = await client.post(
        "/m/v1/checkins", json=checkin_body(window_id=window["id"]), headers=bearer(cases[0]["phone"])
    )
    assert checkin.status_code == 201, checkin.text
    now = utcnow()
    fixes = [
        {"t": (now - timedelta(minutes=5 - i)).isoformat(), "lat": 30.2741, "lon": 120.1551, "accuracy_m": 15}
        for i in range(3)
    ]
    upload = await client.post(
        "/m/v1/locations", json={"device_seq": 1, "fixes": fixes}, headers=bearer(cases[1]["phone"])
    )
    assert upload.status_code == 201, upload.text
    assert not set(ids) & await inactive()
