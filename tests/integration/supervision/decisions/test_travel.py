"""An approved trip widens the allowed area for its dates only."""

from __future__ import annotations

from datetime import date, timedelta

from backend.supervision.fences.allowed_areas import approved_trip_areas
from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place

SHANGHAI = {
    "type": "Polygon",
    "coordinates": [[[121.3, 31.1], [121.6, 31.1], [121.6, 31.35], [121.3, 31.35], [121.3, 31.1]]],
}


async def test_travel_approval_widens_the_allowed_area_for_its_dates_only(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    depart, back = date.today() + timedelta(days=3), date.today() + timedelta(days=5)
    bad = await client.post(
        "/m/v1/travel-requests",
        json={
            "depart_on": back.isoformat(),
            "return_on": depart.isoformat(),
            "destination": "Shanghai",
            "reason": "Hospital",
        },
        headers=bearer(case["phone"]),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "return_on"
    broken_area = await client.post(
        "/m/v1/travel-requests",
        json={
            "depart_on": depart.isoformat(),
            "return_on": back.isoformat(),
            "destination": "Shanghai",
            "reason": "x",
            "destination_area": {
                "type": "Polygon",
                "coordinates": [
                    [[121.3, 31.1], [121.6, 31.35], [121.6, 31.1], [121.3, 31.35], [121.3, 31.1]]
                ],
            },
        },
        headers=bearer(case["phone"]),
    )
    assert broken_area.status_code == 422 and "Self-intersection" in broken_area.json()["detail"]
    trip = (
        await client.post(
            "/m/v1/travel-requests",
            json={
                "depart_on": depart.isoformat(),
                "return_on": back.isoformat(),
                "destination": "Shanghai",
                "reason": "Mother's surgery",
                "destination_area": SHANGHAI,
            },
            headers=bearer(case["phone"]),
        )
    ).json()
    assert trip["status"] == "pending"
    assert await approved_trip_areas(case["measure"]["id"], depart) == []
    decided = await client.post(
        f"/api/v1/travel-requests/{trip['id']}/decision",
        json={"approve": True, "note": "Bring the discharge papers"},
        headers=bearer(officer),
    )
    assert decided.json()["status"] == "approved"
    assert await approved_trip_areas(case["measure"]["id"], depart) == [SHANGHAI]
    assert await approved_trip_areas(case["measure"]["id"], back) == [SHANGHAI]
    assert await approved_trip_areas(case["measure"]["id"], back + timedelta(days=1)) == []
    twice = await client.post(
        f"/api/v1/travel-requests/{trip['id']}/decision", json={"approve": False}, headers=bearer(officer)
    )
    assert twice.status_code == 409
