"""Helpers for supervision tests: enrol a person, place a measure, move windows through time."""

from __future__ import annotations

from datetime import date, timedelta

from backend.core.clock import utcnow
from backend.supervision.checkins.missed_sweep import sweep_missed
from backend.supervision.checkins.tables import CheckinWindow
from tests.support.api import bearer, phone_login, random_phone


async def enrol_and_place(
    client, officer: dict, *, kind="bail", months=6, plan=None, obligations=None
) -> dict:
    """Register a supervisee, place a measure, log the person in. Returns ids and both tokens."""
    phone = random_phone()
    person = await client.post(
        "/api/v1/supervisees",
        json={"phone": phone, "display_name": "Test Person", "region_code": "330106"},
        headers=bearer(officer),
    )
    assert person.status_code == 201, person.text
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    start = date.today()
    measure = await client.post(
        "/api/v1/measures",
        json={
            "person_id": person.json()["id"],
            "kind": kind,
            "legal_basis": "CPL art. 67",
            "deciding_agency_id": me["agency_id"],
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=30 * months - 5)).isoformat(),
            "checkin_plan": plan or {"kind": "daily", "times": ["09:00"], "window_minutes": 60},
            "obligations": obligations or [],
        },
        headers=bearer(officer),
    )
    assert measure.status_code == 201, measure.text
    tokens = await phone_login(client, phone)
    return {"person_id": person.json()["id"], "measure": measure.json(), "phone": tokens, "officer": officer}


async def acknowledge(client, phone_tokens: dict, language: str = "en") -> None:
    notice = (
        await client.get("/m/v1/notice", params={"language": language}, headers=bearer(phone_tokens))
    ).json()
    ack = await client.post(
        "/m/v1/notice/acknowledgements",
        json={
            "version": notice["version"],
            "language": language,
            "text_sha256": notice["text_sha256"],
            "device_id": "test-phone-1",
        },
        headers=bearer(phone_tokens),
    )
    assert ack.status_code == 201, ack.text


async def open_window(client, officer: dict, measure_id: str, minutes: int = 15) -> dict:
    response = await client.post(
        f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": minutes}, headers=bearer(officer)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def miss(client, officer: dict, measure_id: str, times: int = 1) -> None:
    """Open windows and let their grace periods pass unanswered, then run the sweep."""
    for _ in range(times):
        window = await open_window(client, officer, measure_id)
        past = utcnow() - timedelta(minutes=1)
        await CheckinWindow.update(
            {
                CheckinWindow.opens_at: past - timedelta(minutes=30),
                CheckinWindow.closes_at: past,
                CheckinWindow.grace_until: past,
            }
        ).where(CheckinWindow.id == window["id"])
    assert await sweep_missed() >= times


# An 8x8 grey PNG: an image by its header (a selfie must be one), with no face in it. Its base64 has no
# padding, so "A" * n may be appended to make a bigger one.
SELFIE = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAI0lEQVQIHW3BAQEAAAAB"
    "IJ433QFV5CnyFHmKPEWeIk+Rp8gzMpcMCZIlM+8AAAAASUVORK5CYIIA"
)


def checkin_body(**overrides) -> dict:
    now = utcnow()
    body = {
        "captured_at": now.isoformat(),
        "location": {
            "lat": 30.2741,
            "lon": 120.1551,
            "accuracy_m": 12.0,
            "t": now.isoformat(),
        },
        "selfie_jpeg_base64": SELFIE,
    }
    return body | overrides
