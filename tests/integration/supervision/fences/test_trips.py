"""An approved trip widens the fence for its dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend.core.clock import utcnow
from tests.support.api import bearer
from tests.support.fences import TRIP, fenced_case, fixes_along


async def test_approved_trip_widens_the_fence_for_its_dates(client, demo_logins):
    officer, case = await fenced_case(client, demo_logins)
    phone = case["phone"]
    # The trip's days are the measure's local days (Shanghai is a day ahead of UTC after 16:00 UTC).
    today = datetime.now(ZoneInfo(case["measure"]["timezone"])).date()
    trip = (
        await client.post(
            "/m/v1/travel-requests",
            json={
                "depart_on": today.isoformat(),
                "return_on": (today + timedelta(days=1)).isoformat(),
                "destination": "Shanghai",
                "reason": "Court-approved hospital visit",
                "destination_area": TRIP,
            },
            headers=bearer(phone),
        )
    ).json()
    await client.post(
        f"/api/v1/travel-requests/{trip['id']}/decision",
        json={"approve": True, "note": "ok"},
        headers=bearer(officer),
    )
    start = utcnow() - timedelta(minutes=20)
    in_shanghai = [(31.23, 121.47), (31.2301, 121.4701), (31.2302, 121.4702), (31.2303, 121.47)]
    response = await client.post(
        "/m/v1/locations",
        json={"device_seq": 1, "fixes": fixes_along(in_shanghai, start, 120)},
        headers=bearer(phone),
    )
    assert not [e for e in response.json()["events"] if e["kind"] == "left_allowed_area"], response.json()
