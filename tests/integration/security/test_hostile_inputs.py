"""Hostile request values, one class each: every one a clean 4xx problem naming the field, none a 500."""

from __future__ import annotations

import base64
import json
import struct
import uuid
import zlib
from datetime import date, timedelta

import pytest

from backend.core.clock import utcnow
from backend.core.crypto import b64e
from tests.support.api import bearer, demo_staff
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place

DEEP = "[" * 1000 + "]" * 1000
SQUARE = [[[120.05, 30.20], [120.25, 30.20], [120.25, 30.35], [120.05, 30.35], [120.05, 30.20]]]


def _json(value) -> str:
    """JSON as a hostile client writes it: infinity as 1e400, which JSON encoders refuse to write."""
    return json.dumps(value).replace("Infinity", "1e400")


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json().get("errors") or []]


def _refused(response, status: int | tuple, field: str) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in _fields(response), response.text


@pytest.fixture
async def case(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    placed = await enrol_and_place(client, officer)
    return placed


# Nesting -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/login", "/m/v1/auth/code", "/m/v1/auth/login", "/api/v1/auth/refresh"]
)
async def test_deeply_nested_bodies_are_refused_before_login(client, path):
    response = await client.post(path, content=DEEP, headers={"content-type": "application/json"})
    _refused(response, 400, "body")


async def test_deep_nesting_inside_free_form_json_is_refused(client, case):
    officer, measure_id = case["officer"], case["measure"]["id"]
    headers = bearer(officer) | {"content-type": "application/json"}
    whole = await client.put(f"/api/v1/measures/{measure_id}/zones", content=DEEP, headers=headers)
    _refused(whole, 400, "body")
    nested = '{"type": "FeatureCollection", "features": [{"properties": ' + "[" * 200 + "]" * 200 + "}]}"
    inner = await client.put(f"/api/v1/measures/{measure_id}/zones", content=nested, headers=headers)
    assert inner.status_code == 400, inner.text
    assert _fields(inner)[0].startswith("features[0].properties"), inner.text
    upload = await client.post(
        "/m/v1/locations", content=DEEP, headers=bearer(case["phone"]) | {"content-type": "application/json"}
    )
    _refused(upload, 400, "body")


# Strict types -----------------------------------------------------------------------------------------


async def test_strings_are_not_taken_for_numbers_or_booleans(client, case):
    officer, measure_id = case["officer"], case["measure"]["id"]
    number = await client.post(
        f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": "15"}, headers=bearer(officer)
    )
    _refused(number, 400, "minutes")
    boolean = await client.post(
        f"/api/v1/travel-requests/{uuid.uuid4()}/decision", json={"approve": "true"}, headers=bearer(officer)
    )
    _refused(boolean, 400, "approve")
    fixes = [{"t": utcnow().isoformat(), "lat": "30.27", "lon": 120.15, "accuracy_m": 10}]
    upload = await client.post(
        "/m/v1/locations", json={"device_seq": 1, "fixes": fixes}, headers=bearer(case["phone"])
    )
    _refused(upload, 400, "fixes[0].lat")


# Control and bidi characters --------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\u0000", "\u202e", "\u2066", "\u0007", "\u009b"])
async def test_control_and_bidi_characters_are_refused_in_every_text(client, case, char):
    officer, measure_id = case["officer"], case["measure"]["id"]
    person = await client.post(
        "/api/v1/supervisees",
        json={"phone": "+8613900000001", "display_name": f"Zhang{char}San", "region_code": "330106"},
        headers=bearer(officer),
    )
    _refused(person, 400, "display_name")
    violation = await client.post(
        f"/api/v1/measures/{measure_id}/violations",
        json={"rule_id": "missed_summons", "reason": f"did not{char} appear"},
        headers=bearer(officer),
    )
    _refused(violation, 400, "reason")
    zone = {
        "type": "Feature",
        "id": "home",
        "properties": {"role": "allowed", "name": f"home{char}"},
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
    }
    zones = await client.put(
        f"/api/v1/measures/{measure_id}/zones",
        json={"type": "FeatureCollection", "features": [zone]},
        headers=bearer(officer),
    )
    _refused(zones, 400, "features[0].properties.name")


async def test_free_text_keeps_its_newlines_but_single_line_fields_do_not(client, case):
    start = date.today() + timedelta(days=2)
    trip = {"depart_on": start.isoformat(), "return_on": start.isoformat(), "reason": "Hospital\nvisit"}
    ok = await client.post(
        "/m/v1/travel-requests", json=trip | {"destination": "Shanghai"}, headers=bearer(case["phone"])
    )
    assert ok.status_code == 201, ok.text  # a travel request without its optional area works
    two_lines = await client.post(
        "/m/v1/travel-requests", json=trip | {"destination": "Shang\nhai"}, headers=bearer(case["phone"])
    )
    _refused(two_lines, 400, "destination")


async def test_control_characters_in_query_strings_are_refused_naming_the_parameter(client, case):
    for path in ("/api/v1/tasks", "/api/v1/supervision/board"):
        response = await client.get(
            path, params={"status": "open\u0000", "code": "\u202e"}, headers=bearer(case["officer"])
        )
        assert response.status_code == 400, response.text
        assert _fields(response)[0] in ("status", "code"), response.text
    cursor = b64e("str:\u0000".encode())
    track = await client.get(
        f"/api/v1/measures/{case['measure']['id']}/track",
        params={
            "start": (utcnow() - timedelta(days=1)).isoformat(),
            "end": utcnow().isoformat(),
            "cursor": cursor,
        },
        headers=bearer(case["officer"]),
    )
    _refused(track, (400, 422), "cursor")


# Integers beyond 64 bits ------------------------------------------------------------------------------


async def test_ids_beyond_64_bits_are_unknown_ids(client, case):
    huge = 2**64 + 1
    excuse = await client.post(
        f"/api/v1/measures/{case['measure']['id']}/ledger/{huge}/excuse",
        json={"reason": "hospital"},
        headers=bearer(case["officer"]),
    )
    assert excuse.status_code == 404, excuse.text
    contest = await client.post(
        f"/m/v1/ledger/{huge}/contests", json={"text": "no"}, headers=bearer(case["phone"])
    )
    assert contest.status_code == 404, contest.text
    negative = await client.post(
        f"/m/v1/ledger/-{huge}/contests", json={"text": "no"}, headers=bearer(case["phone"])
    )
    assert negative.status_code in (400, 404), negative.text


async def test_cursors_beyond_64_bits_are_refused_naming_the_cursor(client, case):
    officer = case["officer"]
    for key in (
        f"int:{2**70}",
        f"int:-{2**70}",
        "str:2026-01-01T00:00:00+00:00|" + str(2**70),
        "str:0001-01-01|1",
    ):
        cursor = b64e(key.encode())
        board = await client.get(
            "/api/v1/supervision/board", params={"cursor": cursor}, headers=bearer(officer)
        )
        assert board.status_code in (200, 400, 422), board.text
        start = utcnow() - timedelta(days=1)
        track = await client.get(
            f"/api/v1/measures/{case['measure']['id']}/track",
            params={"start": start.isoformat(), "end": utcnow().isoformat(), "cursor": cursor},
            headers=bearer(officer),
        )
        _refused(track, (400, 422), "cursor")


async def test_body_integers_beyond_64_bits_are_refused(client, case):
    zone = {
        "type": "Feature",
        "id": 2**70,
        "properties": {"role": "allowed"},
        "geometry": {"type": "Polygon", "coordinates": SQUARE},
    }
    response = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        json={"type": "FeatureCollection", "features": [zone]},
        headers=bearer(case["officer"]),
    )
    _refused(response, 400, "features[0].id")


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
        _refused(one, (400, 422), "fixes[1].t")
    both = await client.post(
        "/m/v1/locations",
        json={"device_seq": 2, "fixes": [_fix("0001-01-01T00:00:00Z"), _fix("9999-12-31T00:00:00Z")]},
        headers=phone,
    )
    _refused(both, (400, 422), "fixes[0].t")
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
    _refused(early, 422, "fixes[1].t")
    future = await client.post(
        "/m/v1/locations",
        json={"device_seq": 4, "fixes": [_fix((now + timedelta(hours=1)).isoformat())]},
        headers=phone,
    )
    _refused(future, 422, "fixes[0].t")
    naive = await client.post(
        "/m/v1/locations",
        json={"device_seq": 5, "fixes": [_fix(now.isoformat()), _fix(now.replace(tzinfo=None).isoformat())]},
        headers=phone,
    )
    _refused(naive, 400, "fixes[1].t")
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
    _refused(mixed, (400, 422), "start")
    century = await client.get(
        path, params={"start": "2000-01-01T00:00:00Z", "end": "2099-12-31T00:00:00Z"}, headers=officer
    )
    _refused(century, 422, "end")
    extreme = await client.get(
        path,
        params={"start": "0001-01-01T00:00:00+14:00", "end": "0001-01-02T00:00:00+14:00"},
        headers=officer,
    )
    _refused(extreme, (400, 422), "start")


async def test_checkin_times_must_be_zoned_and_plausible(client, case):
    await acknowledge(client, case["phone"])
    phone = bearer(case["phone"])
    naive = await client.post(
        "/m/v1/checkins",
        json=checkin_body(captured_at=utcnow().replace(tzinfo=None).isoformat()),
        headers=phone,
    )
    _refused(naive, 400, "captured_at")
    ancient = await client.post(
        "/m/v1/checkins",
        json=checkin_body(captured_at="0001-01-01T00:00:00+14:00", offline=True),
        headers=phone,
    )
    _refused(ancient, (400, 422), "captured_at")
    body = checkin_body()
    body["location"]["t"] = "9999-12-31T23:59:59-14:00"
    fix = await client.post("/m/v1/checkins", json=body, headers=phone)
    _refused(fix, (400, 422), "location.t")


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
        content=_json(trip | {"reason": "x", "destination_area": area}),
        headers=bearer(case["phone"]) | {"content-type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert any(f.startswith("destination_area") for f in _fields(response)), response.text
    zone = {"type": "Feature", "id": "z", "properties": {"role": "allowed"}, "geometry": area}
    zones = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        content=_json({"type": "FeatureCollection", "features": [zone]}),
        headers=bearer(case["officer"]) | {"content-type": "application/json"},
    )
    assert zones.status_code in (400, 422), zones.text
    assert _fields(zones)[0].startswith("features[0]"), zones.text


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
