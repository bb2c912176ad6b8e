"""Issue 14: one vocabulary for a fix (a check-in's location is an upload's fix: t, lat, lon, accuracy_m,
mock), and GeoJSON taken as a client has it: a bare Polygon or a Feature of one for a trip's area, a single
Feature or a FeatureCollection for zones; anything else is refused naming the field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.db.json import loaded
from backend.supervision.decisions.tables import TravelRequest
from tests.support.api import bearer, demo_staff
from tests.support.fences import ALLOWED, VICTIM
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place, open_window

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[121.3, 31.1], [121.6, 31.1], [121.6, 31.35], [121.3, 31.35], [121.3, 31.1]]],
}


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json().get("errors") or []]


@pytest.fixture
async def case(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    return await enrol_and_place(client, officer)


async def test_a_check_in_fix_has_the_upload_words(client, case):
    await acknowledge(client, case["phone"])
    phone = bearer(case["phone"])
    window = await open_window(client, case["officer"], case["measure"]["id"])
    body = checkin_body(window_id=window["id"])
    assert set(body["location"]) == {"t", "lat", "lon", "accuracy_m"}
    body["location"]["mock"] = True
    mocked = await client.post("/m/v1/checkins", json=body, headers=phone)
    assert mocked.status_code == 201, mocked.text
    assert "mock_location" in mocked.json()["reasons"]  # the reason's word is unchanged

    old = checkin_body()
    fix = old.pop("location")
    old["location"] = {
        "latitude": fix["lat"],
        "longitude": fix["lon"],
        "accuracy_m": fix["accuracy_m"],
        "fix_time": fix["t"],
    }
    refused = await client.post("/m/v1/checkins", json=old, headers=phone)
    assert refused.status_code == 400, refused.text
    assert any(f.startswith("location") for f in _fields(refused)), refused.text


def _trip(area) -> dict:
    start = date.today() + timedelta(days=2)
    return {
        "depart_on": start.isoformat(),
        "return_on": start.isoformat(),
        "destination": "Shanghai",
        "reason": "Hospital",
        "destination_area": area,
    }


@pytest.mark.parametrize(
    "area",
    [
        SQUARE,
        {"type": "Feature", "properties": {"name": "Shanghai"}, "geometry": SQUARE},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": SQUARE}]},
    ],
)
async def test_a_trip_area_is_a_polygon_or_a_feature_of_one(client, case, area):
    response = await client.post("/m/v1/travel-requests", json=_trip(area), headers=bearer(case["phone"]))
    assert response.status_code == 201, response.text
    stored = await TravelRequest.objects().where(TravelRequest.id == response.json()["id"]).first()
    kept = stored.destination_area
    kept = loaded(kept, None)
    assert kept == SQUARE  # the geometry itself, whatever wrapped it


@pytest.mark.parametrize(
    ("area", "field"),
    [
        ({"type": "LineString", "coordinates": [[121.3, 31.1], [121.6, 31.1]]}, "destination_area"),
        (
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.3, 31.1]}},
            "destination_area",
        ),
        ({"type": "Feature", "geometry": None}, "destination_area"),
        ({"type": "FeatureCollection", "features": []}, "destination_area"),
        ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[1, 2]]]}}, "destination_area"),
    ],
)
async def test_other_trip_areas_are_refused_naming_the_field(client, case, area, field):
    response = await client.post("/m/v1/travel-requests", json=_trip(area), headers=bearer(case["phone"]))
    assert response.status_code in (400, 422), response.text
    assert any(f.startswith(field) for f in _fields(response)), response.text


async def test_zones_are_a_feature_collection_or_one_feature(client, case):
    officer, path = bearer(case["officer"]), f"/api/v1/measures/{case['measure']['id']}/zones"
    one = await client.put(path, json=ALLOWED, headers=officer)
    assert one.status_code == 200, one.text
    assert one.json()["type"] == "FeatureCollection" and len(one.json()["features"]) == 1
    assert one.json()["features"][0]["properties"]["role"] == "allowed"
    both = await client.put(
        path, json={"type": "FeatureCollection", "features": [ALLOWED, VICTIM]}, headers=officer
    )
    assert both.status_code == 200, both.text
    listed = (await client.get(path, headers=officer)).json()
    assert [f["properties"]["role"] for f in listed["features"]] == ["allowed", "forbidden"]
    assert listed["features"][1]["geometry"]["type"] == "Point"
    assert listed["features"][1]["properties"]["radius_m"] == 200
    mine = (await client.get("/m/v1/measure/zones", headers=bearer(case["phone"]))).json()
    assert mine == listed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (SQUARE, "type"),  # a zone needs its role: a bare geometry is not one
        ({"type": "Feature", "properties": {"role": "allowed"}, "geometry": None}, "features[0]"),
        ({"type": "Feature", "properties": {"role": "maybe"}, "geometry": SQUARE}, "features[0]"),
        ({"type": "FeatureCollection", "features": [{"type": "Polygon"}]}, "features[0]"),
        ({"type": "FeatureCollection", "features": []}, "features"),
    ],
)
async def test_other_zone_bodies_are_refused_naming_the_field(client, case, body, field):
    path = f"/api/v1/measures/{case['measure']['id']}/zones"
    response = await client.put(path, json=body, headers=bearer(case["officer"]))
    assert response.status_code in (400, 422), response.text
    assert any(f.startswith(field) for f in _fields(response)), response.text
