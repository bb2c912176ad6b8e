"""Every refusal follows the README's conventions: a documented `type`, the offending field by its own
name in `errors[].field` (its message in `message`), and `instance` and `request_id`."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest

from tests.support.api import bearer, demo_staff, random_phone
from tests.support.supervision import enrol_and_place

DOCUMENTED = {"invalid-request", "invalid-input"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].removeprefix("/problems/") in DOCUMENTED, body
    assert body["instance"] == response.request.url.path and body["request_id"], body
    return body


def _fields(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


def _json(headers: dict) -> dict:
    return headers | {"content-type": "application/json"}


@pytest.mark.parametrize("raw", [b"{not json", b"", b'{"phone": "+86138', b"\xff\xfe"])
async def test_malformed_or_missing_json_is_an_invalid_request_naming_the_body(client, demo_logins, raw):
    officer = await demo_staff(client, demo_logins, "officer")
    response = await client.post("/api/v1/supervisees", content=raw, headers=_json(bearer(officer)))
    body = _problem(response, 400)
    assert body["type"] == "/problems/invalid-request"
    assert _fields(body) == ["body"], body


async def test_missing_and_unknown_fields_are_reported_on_their_own_names(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    missing = await client.post(
        "/api/v1/supervisees",
        json={"phone": random_phone(), "region_code": "330106"},
        headers=bearer(officer),
    )
    body = _problem(missing, 400)
    assert body["errors"] == [{"field": "display_name", "message": "is required"}], body
    assert body["detail"] == "display_name: is required"

    unknown = await client.post(
        "/api/v1/supervisees",
        json={"phone": random_phone(), "display_name": "A Person", "region_code": "330106", "foo": 1},
        headers=bearer(officer),
    )
    body = _problem(unknown, 400)
    assert body["errors"] == [{"field": "foo", "message": "is not a known field"}], body


async def test_a_missing_nested_field_is_named_by_its_path(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    start = date.today()
    response = await client.post(
        "/api/v1/measures",
        json={
            "person_id": str(uuid.uuid4()),
            "kind": "bail",
            "legal_basis": "CPL art. 67",
            "deciding_agency_id": me["agency_id"],
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=90)).isoformat(),
            "checkin_plan": {"kind": "daily", "window_minutes": 60},
        },
        headers=bearer(officer),
    )
    assert _fields(_problem(response, 400)) == ["checkin_plan.times"]


async def test_a_zone_error_names_the_field_and_says_what_is_wrong_in_its_message(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    zone = {
        "type": "Feature",
        "properties": {"role": "allowed", "margin_m": "wide"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.2]]],
        },
    }
    response = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        json={"type": "FeatureCollection", "features": [zone]},
        headers=bearer(officer),
    )
    body = _problem(response, 422)
    assert body["errors"] == [
        {"field": "features[0].properties.margin_m", "message": "expected a number of metres"}
    ]


async def test_a_reused_idempotency_key_is_a_full_problem_and_not_a_replay(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    key = str(uuid.uuid4())
    headers = _json(bearer(officer)) | {"Idempotency-Key": key}

    def person() -> bytes:
        return json.dumps(
            {"phone": random_phone(), "display_name": "A Person", "region_code": "330106"}
        ).encode()

    first = await client.post("/api/v1/supervisees", content=person(), headers=headers)
    assert first.status_code == 201, first.text
    other = await client.post("/api/v1/supervisees", content=person(), headers=headers)
    body = _problem_of(other, 422, "idempotency-key-reused")
    assert _fields(body) == ["Idempotency-Key"]
    assert "idempotent-replayed" not in other.headers

    overlong = await client.post(
        "/api/v1/supervisees", content=person(), headers=headers | {"Idempotency-Key": "k" * 129}
    )
    body = _problem(overlong, 400)
    assert _fields(body) == ["Idempotency-Key"]


def _problem_of(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{kind}"
    assert body["instance"] == response.request.url.path and body["request_id"], body
    assert body["request_id"] == response.headers["x-request-id"]
    return body
