"""A check-in's fix is judged against the measure's fences."""

from __future__ import annotations

from tests.support.api import bearer
from tests.support.fences import fenced_case


async def test_checkin_location_is_judged_against_the_fences(client, demo_logins):
    from tests.support.supervision import acknowledge, checkin_body, open_window

    officer, case = await fenced_case(client, demo_logins)
    phone = case["phone"]
    await acknowledge(client, phone)
    await open_window(client, officer, case["measure"]["id"])
    inside = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))
    assert inside.json()["reasons"] == ["face_not_enrolled"], inside.json()  # no fence doubt
    await open_window(client, officer, case["measure"]["id"])
    far = checkin_body()
    far["location"] |= {"lat": 31.23, "lon": 121.47}  # Shanghai, no trip approved
    outside = await client.post("/m/v1/checkins", json=far, headers=bearer(phone))
    assert outside.json()["outcome"] == "doubtful"
    assert "outside_allowed_area" in outside.json()["reasons"]
    await open_window(client, officer, case["measure"]["id"])
    at_victim = checkin_body()
    at_victim["location"] |= {"lat": 30.3001, "lon": 120.1001}
    forbidden = await client.post("/m/v1/checkins", json=at_victim, headers=bearer(phone))
    assert "in_forbidden_place" in forbidden.json()["reasons"]
