"""Batched location uploads: breaches cost points, drift and spoofing do not; an upload overtaken while
judged is judged again."""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import utcnow
from backend.supervision.fences.tables import LocationFix
from tests.support.api import bearer, demo_staff
from tests.support.fences import fenced_case, fixes_along


async def test_exit_and_forbidden_place_cost_points_and_drift_does_not(client, demo_logins):
    officer, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=30)
    inside = await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 1,
            "fixes": fixes_along([(30.27, 120.15), (30.2701, 120.1502), (30.2703, 120.1499)], start),
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
            "fixes": fixes_along(
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
            "fixes": fixes_along(
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
            "fixes": fixes_along(
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
    officer, case = await fenced_case(client, demo_logins)
    start = utcnow() - timedelta(minutes=40)
    # Walking along the northern edge (30.35) with 50 m accuracy, wobbling 20-30 m either side of the line.
    points = [(30.35 + (0.0002 if i % 2 else -0.00025), 120.10 + i * 0.002) for i in range(30)]
    response = await client.post(
        "/m/v1/locations",
        json={"device_seq": 1, "fixes": fixes_along(points, start, 60, 50.0)},
        headers=bearer(case["phone"]),
    )
    assert response.status_code == 201
    assert not [e for e in response.json()["events"] if e["kind"] == "left_allowed_area"]


async def test_spoofing_is_flagged_for_review_not_scored(client, demo_logins):
    officer, case = await fenced_case(client, demo_logins)
    start = utcnow() - timedelta(minutes=10)
    fixes = fixes_along([(30.27, 120.15), (30.2701, 120.1501)], start)
    fixes[1]["mock"] = True
    teleport = fixes_along([(30.27, 120.15), (39.90, 116.40)], start + timedelta(minutes=3), step_s=30)
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


async def test_an_upload_overtaken_while_judging_is_judged_again(client, demo_logins, monkeypatch):
    """Uploads are judged before the write lock is taken. If another upload of the same person lands in
    between, the state judged from is stale: the batch is judged again from the new one. Here the first half
    of an exit lands while the second half is being judged; together they are one confirmed breach (neither
    half is enough on its own)."""
    from backend.supervision.fences import uploads as locations

    officer, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=30)
    walk = fixes_along(
        [(30.40, 120.15), (30.41, 120.15), (30.42, 120.15), (30.42, 120.151)], start, step_s=50
    )
    stored_state, overtaken = locations.store.fence_state, []

    async def read_then_get_overtaken(measure):
        state = await stored_state(measure)
        if not overtaken:
            overtaken.append(None)  # once: the overtaking upload reads the state through here as well
            overtaken[0] = await client.post(
                "/m/v1/locations", json={"device_seq": 1, "fixes": walk[:2]}, headers=bearer(phone)
            )
        return state

    monkeypatch.setattr(locations.store, "fence_state", read_then_get_overtaken)
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
