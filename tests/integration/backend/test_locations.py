"""Fences wired to the supervision record: zones drawn as GeoJSON, batched uploads, ledger events, tracks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.core.clock import utcnow
from backend.supervision.fences.tables import LocationFix
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


def _fixes(points, start, step_s=60, accuracy=15.0):
    return [
        {
            "t": (start + timedelta(seconds=i * step_s)).isoformat(),
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy,
        }
        for i, (lat, lon) in enumerate(points)
    ]


async def _setup(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    zones = await client.put(
        f"/api/v1/measures/{case['measure']['id']}/zones",
        json={"type": "FeatureCollection", "features": [ALLOWED, VICTIM]},
        headers=bearer(officer),
    )
    assert zones.status_code == 200, zones.text
    return officer, case


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


async def test_exit_and_forbidden_place_cost_points_and_drift_does_not(client, demo_logins):
    officer, case = await _setup(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=30)
    inside = await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 1,
            "fixes": _fixes([(30.27, 120.15), (30.2701, 120.1502), (30.2703, 120.1499)], start),
        },
        headers=bearer(phone),
    )
    assert inside.status_code == 201, inside.text
    assert inside.json() == {"accepted": 3, "flagged": 0, "events": [], "replayed": False, "duplicates": 0}

    # A clear exit, confirmed by several fixes over the dwell time.
    outside = await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 2,
            "fixes": _fixes(
                [(30.40, 120.15), (30.41, 120.15), (30.42, 120.15), (30.42, 120.151)],
                start + timedelta(minutes=5),
            ),
        },
        headers=bearer(phone),
    )
    events = outside.json()["events"]
    assert [e["kind"] for e in events] == ["left_allowed_area"]
    # A retried upload (the same fixes) changes nothing.
    retry = await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 2,
            "fixes": _fixes(
                [(30.40, 120.15), (30.41, 120.15), (30.42, 120.15), (30.42, 120.151)],
                start + timedelta(minutes=5),
            ),
        },
        headers=bearer(phone),
    )
    assert retry.json()["replayed"] is True and retry.json()["events"] == events
    assert await LocationFix.count().where(LocationFix.measure == measure_id) == 7

    back_and_in = await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 3,
            "fixes": _fixes(
                [(30.27, 120.15), (30.30, 120.10), (30.3001, 120.1001), (30.3002, 120.1), (30.3001, 120.1)],
                start + timedelta(minutes=12),
            ),
        },
        headers=bearer(phone),
    )
    kinds = [e["kind"] for e in back_and_in.json()["events"]]
    assert "returned" in kinds and "entered_forbidden_place" in kinds

    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(officer))).json()[
        "items"
    ]
    assert [(e["rule_id"], e["points"]) for e in ledger] == [
        ("fence_breach_medium", -20),
        ("fence_breach_high", -30),
    ]
    assert ledger[-1]["evidence_type"] == "fence_event"

    track = (
        await client.get(
            f"/api/v1/measures/{measure_id}/track",
            headers=bearer(officer),
            params={"start": (start - timedelta(minutes=1)).isoformat(), "end": utcnow().isoformat()},
        )
    ).json()
    assert len(track["fixes"]) == 12 and track["next_cursor"] is None
    assert [e["kind"] for e in track["events"]][:1] == ["left_allowed_area"]
    assert track["events"][0]["fixes"], "each event carries the fixes that prove it"
    # A long track comes in pages; following next_cursor gives every fix once, in order.
    window = {"start": (start - timedelta(minutes=1)).isoformat(), "end": utcnow().isoformat()}
    pages, cursor = [], None
    while True:
        params = window | {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = await client.get(
            f"/api/v1/measures/{measure_id}/track", headers=bearer(officer), params=params
        )
        assert page.status_code == 200, page.text
        pages.append(page.json())
        if (cursor := page.json()["next_cursor"]) is None:
            break
    assert [len(p["fixes"]) for p in pages] == [5, 5, 2]
    assert [f for p in pages for f in p["fixes"]] == track["fixes"]
    assert pages[0]["events"] == track["events"] and not pages[1]["events"]
    for bad, field in (({"cursor": "not-a-cursor"}, "cursor"), ({"limit": 0}, "limit")):
        refused = await client.get(
            f"/api/v1/measures/{measure_id}/track", headers=bearer(officer), params=window | bad
        )
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    judge = await demo_staff(client, demo_logins, "judge")
    hidden = await client.get(
        f"/api/v1/measures/{measure_id}/track",
        headers=bearer(judge),
        params={"start": start.isoformat(), "end": utcnow().isoformat()},
    )
    assert hidden.status_code == 404


async def test_gps_drift_along_the_boundary_never_breaches(client, demo_logins):
    officer, case = await _setup(client, demo_logins)
    start = utcnow() - timedelta(minutes=40)
    # Walking along the northern edge (30.35) with 50 m accuracy, wobbling 20-30 m either side of the line.
    points = [(30.35 + (0.0002 if i % 2 else -0.00025), 120.10 + i * 0.002) for i in range(30)]
    response = await client.post(
        "/m/v1/locations",
        json={"device_seq": 1, "fixes": _fixes(points, start, 60, 50.0)},
        headers=bearer(case["phone"]),
    )
    assert response.status_code == 201
    assert not [e for e in response.json()["events"] if e["kind"] == "left_allowed_area"]


async def test_spoofing_is_flagged_for_review_not_scored(client, demo_logins):
    officer, case = await _setup(client, demo_logins)
    start = utcnow() - timedelta(minutes=10)
    fixes = _fixes([(30.27, 120.15), (30.2701, 120.1501)], start)
    fixes[1]["mock"] = True
    teleport = _fixes([(30.27, 120.15), (39.90, 116.40)], start + timedelta(minutes=3), step_s=30)
    response = await client.post(
        "/m/v1/locations", json={"device_seq": 1, "fixes": fixes + teleport}, headers=bearer(case["phone"])
    )
    body = response.json()
    assert body["flagged"] >= 2
    reasons = " ".join(e["reason"] for e in body["events"] if e["kind"] == "fix_flagged")
    assert "mock" in reasons and ("speed" in reasons or "teleport" in reasons)
    ledger = (
        await client.get(f"/api/v1/measures/{case['measure']['id']}/ledger", headers=bearer(officer))
    ).json()["items"]
    assert ledger == []
    tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    assert any(t["ref_type"] == "fence_event" and t["measure_id"] == case["measure"]["id"] for t in tasks)


async def test_approved_trip_widens_the_fence_for_its_dates(client, demo_logins):
    officer, case = await _setup(client, demo_logins)
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
        json={"device_seq": 1, "fixes": _fixes(in_shanghai, start, 120)},
        headers=bearer(phone),
    )
    assert not [e for e in response.json()["events"] if e["kind"] == "left_allowed_area"], response.json()


async def test_indoor_signal_loss_is_reported_as_loss_not_breach(client, demo_logins):
    from backend.supervision.fences.signal_loss import sweep_signal_loss
    from backend.supervision.fences.tables import FenceEvent, FenceState

    officer, case = await _setup(client, demo_logins)
    measure_id = case["measure"]["id"]
    start = utcnow() - timedelta(minutes=40)
    await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 1,
            "fixes": _fixes([(30.27, 120.15), (30.2701, 120.1501), (30.2702, 120.1502)], start),
        },
        headers=bearer(case["phone"]),
    )
    # The phone goes quiet (indoors, no fix) for longer than the loss period.
    await FenceState.update({FenceState.updated_at: utcnow() - timedelta(minutes=30)}).where(
        FenceState.measure == measure_id
    )
    assert await sweep_signal_loss() >= 1
    kinds = [e.kind for e in await FenceEvent.objects().where(FenceEvent.measure == measure_id)]
    assert kinds == ["signal_lost"]
    assert await sweep_signal_loss() == 0  # reported once, not on every sweep
    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(officer))).json()[
        "items"
    ]
    assert ledger == []
    back = await client.post(
        "/m/v1/locations",
        json={"device_seq": 2, "fixes": _fixes([(30.2703, 120.1503)], utcnow() - timedelta(seconds=30))},
        headers=bearer(case["phone"]),
    )
    assert [e["kind"] for e in back.json()["events"]] == ["signal_restored"]


async def test_checkin_location_is_judged_against_the_fences(client, demo_logins):
    from tests.support.supervision import acknowledge, checkin_body, open_window

    officer, case = await _setup(client, demo_logins)
    phone = case["phone"]
    await acknowledge(client, phone)
    await open_window(client, officer, case["measure"]["id"])
    inside = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))
    assert inside.json()["reasons"] == ["face_not_enrolled"], inside.json()  # no fence doubt
    await open_window(client, officer, case["measure"]["id"])
    far = checkin_body()
    far["location"] |= {"lat": 31.23, "lon": 121.47}  # Shanghai, no trip approved
    outside = await client.post("/m/v1/checkins", json=far, headers=bearer(phone))
    assert outside.json()["outcome"] == "doubtful"
    assert "outside_allowed_area" in outside.json()["reasons"]
    await open_window(client, officer, case["measure"]["id"])
    at_victim = checkin_body()
    at_victim["location"] |= {"lat": 30.3001, "lon": 120.1001}
    forbidden = await client.post("/m/v1/checkins", json=at_victim, headers=bearer(phone))
    assert "in_forbidden_place" in forbidden.json()["reasons"]


async def test_redrawn_zones_take_effect_on_the_next_upload(client, demo_logins):
    """Compiled fences are cached per process; an officer's redrawing must not be judged with the old ones."""
    officer, case = await _setup(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=30)
    first = await client.post(
        "/m/v1/locations",
        json={"device_seq": 1, "fixes": _fixes([(30.27, 120.15), (30.2701, 120.1502)], start)},
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
            "fixes": _fixes(
                [(30.27, 120.15), (30.2701, 120.1502), (30.2702, 120.1501), (30.2701, 120.15)],
                start + timedelta(minutes=5),
            ),
        },
        headers=bearer(phone),
    )
    assert [e["kind"] for e in second.json()["events"]] == ["left_allowed_area"], second.json()


async def test_an_upload_overtaken_while_judging_is_judged_again(client, demo_logins, monkeypatch):
    """Uploads are judged before the write lock is taken. If another upload of the same person lands in
    between, the state judged from is stale: the batch is judged again from the new one. Here the first half
    of an exit lands while the second half is being judged; together they are one confirmed breach (neither
    half is enough on its own)."""
    from backend.supervision.fences import uploads as locations

    officer, case = await _setup(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=30)
    walk = _fixes([(30.40, 120.15), (30.41, 120.15), (30.42, 120.15), (30.42, 120.151)], start, step_s=50)
    stored_state, overtaken = locations._stored_state, []

    async def read_then_get_overtaken(measure):
        state = await stored_state(measure)
        if not overtaken:
            overtaken.append(None)  # once: the overtaking upload reads the state through here as well
            overtaken[0] = await client.post(
                "/m/v1/locations", json={"device_seq": 1, "fixes": walk[:2]}, headers=bearer(phone)
            )
        return state

    monkeypatch.setattr(locations, "_stored_state", read_then_get_overtaken)
    second = await client.post(
        "/m/v1/locations", json={"device_seq": 2, "fixes": walk[2:]}, headers=bearer(phone)
    )

    first = overtaken[0]
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["events"] == []
    assert [e["kind"] for e in second.json()["events"]] == ["left_allowed_area"]
    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(officer))).json()[
        "items"
    ]
    assert [e["rule_id"] for e in ledger] == ["fence_breach_medium"]
