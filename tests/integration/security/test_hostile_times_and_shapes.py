"""Hostile times, areas and images: fix, track and check-in times at the ends of the calendar or outside
the measure, malformed travel areas, empty photos and image bombs; each a clean 4xx naming the field."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import date, timedelta

import pytest

from backend.core.clock import utcnow
from tests.support.api import bearer
from tests.support.hostile import fields, hostile_json, refused
from tests.support.supervision import acknowledge, checkin_body

# Times ------------------------------------------------------------------------------------------------


def _fix(t: str) -> dict:
    return {"t": t, "lat": 30.27, "lon": 120.15, "accuracy_m": 10}


async def test_fix_times_at_the_ends_of_the_calendar_are_refused(client, case):
    phone = bearer(case["phone"])
    now = utcnow().isoformat()
    for extreme in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z"):
        one = await client.post(
            "/m/v1/locations", json={"device_seq": 1, "fixes": [_fix(now), _fix(extreme)]}, headers=phone
        )
        refused(one, (400, 422), "fixes[1].t")
    both = await client.post(
        "/m/v1/locations",
        json={"device_seq": 2, "fixes": [_fix("0001-01-01T00:00:00Z"), _fix("9999-12-31T00:00:00Z")]},
        headers=phone,
    )
    refused(both, (400, 422), "fixes[0].t")
    assert (await client.get("/health")).status_code == 200


async def test_fix_times_outside_the_measure_are_refused_before_any_work(client, case):
    phone = bearer(case["phone"])
    now = utcnow()
    before = (now - timedelta(days=3)).isoformat()  # the measure started today
    early = await client.post(
        "/m/v1/locations",
        json={"device_seq": 3, "fixes": [_fix(now.isoformat()), _fix(before)]},
        headers=phone,
    )
    refused(early, 422, "fixes[1].t")
    future = await client.post(
        "/m/v1/locations",
        json={"device_seq": 4, "fixes": [_fix((now + timedelta(hours=1)).isoformat())]},
        headers=phone,
    )
    refused(future, 422, "fixes[0].t")
    naive = await client.post(
        "/m/v1/locations",
        json={"device_seq": 5, "fixes": [_fix(now.isoformat()), _fix(now.replace(tzinfo=None).isoformat())]},
        headers=phone,
    )
    refused(naive, 400, "fixes[1].t")
    fine = await client.post(
        "/m/v1/locations", json={"device_seq": 6, "fixes": [_fix(now.isoformat())]}, headers=phone
    )
    assert fine.status_code == 201, fine.text


async def test_track_ranges_must_be_zoned_and_bounded(client, case):
    officer, path = bearer(case["officer"]), f"/api/v1/measures/{case['measure']['id']}/track"
    now = utcnow()
    mixed = await client.get(
        path, params={"start": now.replace(tzinfo=None).isoformat(), "end": now.isoformat()}, headers=officer
    )
    refused(mixed, (400, 422), "start")
    century = await client.get(
        path, params={"start": "2000-01-01T00:00:00Z", "end": "2099-12-31T00:00:00Z"}, headers=officer
    )
    refused(century, 422, "end")
    extreme = await client.get(
        path,
        params={"start": "0001-01-01T00:00:00+14:00", "end": "0001-01-02T00:00:00+14:00"},
        headers=officer,
    )
    refused(extreme, (400, 422), "start")


async def test_checkin_times_must_be_zoned_and_plausible(client, case):
    await acknowledge(client, case["phone"])
    phone = bearer(case["phone"])
    naive = await client.post(
        "/m/v1/checkins",
        json=checkin_body(captured_at=utcnow().replace(tzinfo=None).isoformat()),
        headers=phone,
    )
    refused(naive, 400, "captured_at")
    ancient = await client.post(
        "/m/v1/checkins",
        json=checkin_body(captured_at="0001-01-01T00:00:00+14:00", offline=True),
        headers=phone,
    )
    refused(ancient, (400, 422), "captured_at")
    body = checkin_body()
    body["location"]["t"] = "9999-12-31T23:59:59-14:00"
    fix = await client.post("/m/v1/checkins", json=body, headers=phone)
    refused(fix, (400, 422), "location.t")


# GeoJSON ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "area",
    [
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": None},
        {"type": "Polygon", "coordinates": [[[121.3, 31.1], [121.6, 31.1], [121.6, 31.35], [121.3, 31.35]]]},
        {"type": "Polygon", "coordinates": [[["a", 31.1]]]},
        {"type": "MultiPolygon", "coordinates": [[[1, 2]]]},
        {"type": "Polygon", "coordinates": [[[float("inf"), 1], [2, 2], [3, 1], [float("inf"), 1]]]},
    ],
)
async def test_malformed_travel_areas_are_refused_as_zones_refuse_them(client, case, area):
    start = date.today() + timedelta(days=2)
    trip = {"depart_on": start.isoformat(), "return_on": start.isoformat(), "destination": "Shanghai"}
    response = await client.post(
        "/m/v1/travel-requests",
        content=hostile_json(trip | {"reason": "x", "destination_area": area}),
        headers=bearer(case["phone"]) | {"content-type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert any(f.startswith("destination_area") for f in fields(response)), response.text
    zone = {"type": "Feature", "id": "z", "properties": {"role": "allowed"}, "geometry": area}
    zones = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        content=hostile_json({"type": "FeatureCollection", "features": [zone]}),
        headers=bearer(case["officer"]) | {"content-type": "application/json"},
    )
    assert zones.status_code in (400, 422), zones.text
    assert fields(zones)[0].startswith("features[0]"), zones.text


# Images -----------------------------------------------------------------------------------------------


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny JPEG header whose frame claims width x height (what a decompression bomb sends)."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + bytes.fromhex("011100021100031100")
    return (
        b"\xff\xd8"
        + sof
        + b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
        + b"\x00" * 7000
        + b"\xff\xd9"
    )


def png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


async def test_enrolment_refuses_empty_photos_and_image_bombs(client, case):
    path, officer = f"/api/v1/measures/{case['measure']['id']}/face-enrolment", bearer(case["officer"])
    empty = await client.post(path, json={"photos_jpeg_base64": ["", "", ""]}, headers=officer)
    assert 400 <= empty.status_code < 500, empty.text
    bomb = base64.b64encode(jpeg_claiming(16000, 16000)).decode()
    bombs = await client.post(path, json={"photos_jpeg_base64": [bomb] * 3}, headers=officer)
    assert 400 <= bombs.status_code < 500 and bombs.status_code != 413, bombs.text
