"""Zones drawn as GeoJSON: invalid ones are refused naming the problem; redrawn zones take effect on the
next upload."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.core.clock import utcnow
from tests.support.api import bearer, demo_staff
from tests.support.fences import ALLOWED, fenced_case, fixes_along
from tests.support.supervision import enrol_and_place


async def test_invalid_zones_are_refused_naming_the_problem(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    bowtie = ALLOWED | {
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[120.05, 30.20], [120.25, 30.35], [120.25, 30.20], [120.05, 30.35], [120.05, 30.20]]
            ],
        }
    }
    response = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        json={"type": "FeatureCollection", "features": [bowtie]},
        headers=bearer(officer),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("features[0]")
    assert "self-intersect" in response.json()["detail"]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": None},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[]]},
        {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3]]]},
        {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], ["a", "b"]]]},
        {"type": "Point", "coordinates": [120.1]},
        {"type": "GeometryCollection", "geometries": []},
        None,
    ],
)
async def test_malformed_zone_geometries_are_refused_naming_the_feature(client, demo_logins, geometry):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    response = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        json={"type": "FeatureCollection", "features": [ALLOWED | {"geometry": geometry}]},
        headers=bearer(officer),
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["errors"][0]["field"].startswith(("features", "body")), response.text


async def test_redrawn_zones_take_effect_on_the_next_upload(client, demo_logins):
    """Compiled fences are cached per process; an officer's redrawing must not be judged with the old ones."""
    officer, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=30)
    first = await client.post(
        "/m/v1/locations",
        json={"device_seq": 1, "fixes": fixes_along([(30.27, 120.15), (30.2701, 120.1502)], start)},
        headers=bearer(phone),
    )
    assert first.json()["events"] == []  # inside the district: fences now compiled and cached
    # The officer narrows the allowed area to a small box in the north-west of the district.
    north_west = ALLOWED | {
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[120.05, 30.30], [120.10, 30.30], [120.10, 30.35], [120.05, 30.35], [120.05, 30.30]]
            ],
        }
    }
    redrawn = await client.put(
        f"/api/v1/measures/{measure_id}/zones",
        json={"type": "FeatureCollection", "features": [north_west]},
        headers=bearer(officer),
    )
    assert redrawn.status_code == 200, redrawn.text
    # The same spot, still inside the old district, is now outside the allowed area.
    second = await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 2,
            "fixes": fixes_along(
                [(30.27, 120.15), (30.2701, 120.1502), (30.2702, 120.1501), (30.2701, 120.15)],
                start + timedelta(minutes=5),
            ),
        },
        headers=bearer(phone),
    )
    assert [e["kind"] for e in second.json()["events"]] == ["left_allowed_area"], second.json()
