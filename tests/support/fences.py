"""Helpers for fence and location tests: a district-sized allowed area, a forbidden circle, a trip's area,
fixes along a walk, and a measure with both zones drawn."""

from __future__ import annotations

from datetime import timedelta

from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place

# A district-sized allowed area around West Lake and a forbidden circle (the victim's home) inside it.
ALLOWED = {
    "type": "Feature",
    "id": "district",
    "properties": {"role": "allowed", "severity": "medium"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[120.05, 30.20], [120.25, 30.20], [120.25, 30.35], [120.05, 30.35], [120.05, 30.20]]
        ],
    },
}
VICTIM = {
    "type": "Feature",
    "id": "victim-home",
    "properties": {"role": "forbidden", "severity": "high", "radius_m": 200},
    "geometry": {"type": "Point", "coordinates": [120.10, 30.30]},
}
TRIP = {
    "type": "Polygon",
    "coordinates": [[[121.3, 31.1], [121.6, 31.1], [121.6, 31.35], [121.3, 31.35], [121.3, 31.1]]],
}


def fixes_along(points, start, step_s=60, accuracy=15.0) -> list[dict]:
    return [
        {
            "t": (start + timedelta(seconds=i * step_s)).isoformat(),
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy,
        }
        for i, (lat, lon) in enumerate(points)
    ]


async def fenced_case(client, demo_logins) -> tuple[dict, dict]:
    """An officer and a placed measure with ALLOWED and VICTIM drawn."""
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    zones = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        json={"type": "FeatureCollection", "features": [ALLOWED, VICTIM]},
        headers=bearer(officer),
    )
    assert zones.status_code == 200, zones.text
    return officer, case
