"""Hostile request values in bodies, texts, ids and queries: every one a clean 4xx problem naming the
field, none a 500."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from backend.core.clock import utcnow
from backend.core.crypto import b64e
from tests.support.api import bearer
from tests.support.hostile import DEEP, SQUARE, fields, refused

# Nesting -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/login", "/m/v1/auth/code", "/m/v1/auth/login", "/api/v1/auth/refresh"]
)
async def test_deeply_nested_bodies_are_refused_before_login(client, path):
    response = await client.post(path, content=DEEP, headers={"content-type": "application/json"})
    refused(response, 400, "body")


async def test_deep_nesting_inside_free_form_json_is_refused(client, case):
    officer, measure_id = case["officer"], case["measure"]["id"]
    headers = bearer(officer) | {"content-type": "application/json"}
    whole = await client.put(f"/api/v1/measures/{measure_id}/zones", content=DEEP, headers=headers)
    refused(whole, 400, "body")
    nested = '{"type": "FeatureCollection", "features": [{"properties": ' + "[" * 200 + "]" * 200 + "}]}"
    inner = await client.put(f"/api/v1/measures/{measure_id}/zones", content=nested, headers=headers)
    assert inner.status_code == 400, inner.text
    assert fields(inner)[0].startswith("features[0].properties"), inner.text
    upload = await client.post(
        "/m/v1/locations", content=DEEP, headers=bearer(case["phone"]) | {"content-type": "application/json"}
    )
    refused(upload, 400, "body")


# Strict types -----------------------------------------------------------------------------------------


async def test_strings_are_not_taken_for_numbers_or_booleans(client, case):
    officer, measure_id = case["officer"], case["measure"]["id"]
    number = await client.post(
        f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": "15"}, headers=bearer(officer)
    )
    refused(number, 400, "minutes")
    boolean = await client.post(
        f"/api/v1/travel-requests/{uuid.uuid4()}/decision", json={"approve": "true"}, headers=bearer(officer)
    )
    refused(boolean, 400, "approve")
    fixes = [{"t": utcnow().isoformat(), "lat": "30.27", "lon": 120.15, "accuracy_m": 10}]
    upload = await client.post(
        "/m/v1/locations", json={"device_seq": 1, "fixes": fixes}, headers=bearer(case["phone"])
    )
    refused(upload, 400, "fixes[0].lat")


# Control and bidi characters --------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\u0000", "\u202e", "\u2066", "\u0007", "\u009b"])
async def test_control_and_bidi_characters_are_refused_in_every_text(client, case, char):
    officer, measure_id = case["officer"], case["measure"]["id"]
    person = await client.post(
        "/api/v1/supervisees",
        json={"phone": "+8613900000001", "display_name": f"Zhang{char}San", "region_code": "330106"},
        headers=bearer(officer),
    )
    refused(person, 400, "display_name")
    violation = await client.post(
        f"/api/v1/measures/{measure_id}/violations",
        json={"rule_id": "missed_summons", "reason": f"did not{char} appear"},
        headers=bearer(officer),
    )
    refused(violation, 400, "reason")
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
    refused(zones, 400, "features[0].properties.name")


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
    refused(two_lines, 400, "destination")


async def test_control_characters_in_query_strings_are_refused_naming_the_parameter(client, case):
    for path in ("/api/v1/tasks", "/api/v1/supervision/board"):
        response = await client.get(
            path, params={"status": "open\u0000", "code": "\u202e"}, headers=bearer(case["officer"])
        )
        assert response.status_code == 400, response.text
        assert fields(response)[0] in ("status", "code"), response.text
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
    refused(track, (400, 422), "cursor")


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
        refused(track, (400, 422), "cursor")


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
    refused(response, 400, "features[0].id")
