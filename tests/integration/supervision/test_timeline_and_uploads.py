"""Issue 14 defects: a device_seq sent again with other fixes is refused (not answered as a replay while
its fixes are dropped); the same fixes under a new device_seq are stored once; the timeline shows the
whole history (fence events, the notice acknowledgement, zone changes) and check-in reasons as words."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from backend.core.clock import utcnow
from backend.supervision.fences.tables import LocationFix
from tests.support.api import bearer
from tests.support.fences import ALLOWED, fenced_case, fixes_along
from tests.support.supervision import acknowledge, checkin_body

# Coordinates with more digits than PostgreSQL's REAL keeps: a duplicate is still found there.
HOME = [(30.271234567, 120.151234567), (30.271334567, 120.151334567), (30.271434567, 120.151434567)]


def _items(body):
    return body["items"] if isinstance(body, dict) else body


async def _count(measure_id: str) -> int:
    return await LocationFix.count().where(LocationFix.measure == measure_id)


async def _upload(client, phone, seq: int, fixes: list[dict]):
    return await client.post(
        "/m/v1/locations", json={"device_seq": seq, "fixes": fixes}, headers=bearer(phone)
    )


async def test_a_device_seq_sent_again_with_other_fixes_is_refused_and_stores_nothing(client, demo_logins):
    _, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=20)
    first = await _upload(client, phone, 7, fixes_along(HOME, start))
    assert first.status_code == 201 and first.json()["accepted"] == 3, first.text

    other = await _upload(client, phone, 7, fixes_along(HOME, start + timedelta(minutes=5)))
    assert other.status_code == 422, other.text
    assert [e["field"] for e in other.json()["errors"]] == ["device_seq"]
    assert await _count(measure_id) == 3

    # The same fixes again, in another order: the retry it is, answered as the first time.
    retry = await _upload(client, phone, 7, list(reversed(fixes_along(HOME, start))))
    assert retry.status_code == 201 and retry.json()["replayed"] is True, retry.text
    assert retry.json()["accepted"] == 3
    assert await _count(measure_id) == 3


async def test_the_same_fixes_under_a_new_device_seq_are_stored_once(client, demo_logins):
    officer, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    start = utcnow() - timedelta(minutes=20)
    fixes = fixes_along(HOME, start)
    assert (await _upload(client, phone, 1, fixes)).json()["accepted"] == 3

    again = await _upload(client, phone, 2, fixes)
    assert again.status_code == 201, again.text
    assert again.json() | {"events": []} == {
        "accepted": 0,
        "flagged": 0,
        "events": [],
        "replayed": False,
        "duplicates": 3,
    }
    # Two old fixes re-batched with a new one, and a fix repeated within a batch: only the new one counts.
    newer = fixes_along([(30.2716, 120.1516)], start + timedelta(minutes=10))
    mixed = await _upload(client, phone, 3, fixes[1:] + newer + newer)
    assert (mixed.json()["accepted"], mixed.json()["duplicates"]) == (1, 3), mixed.text
    assert await _count(measure_id) == 4

    track = await client.get(
        f"/api/v1/measures/{measure_id}/track",
        headers=bearer(officer),
        params={"start": (start - timedelta(minutes=1)).isoformat(), "end": utcnow().isoformat()},
    )
    assert len(track.json()["fixes"]) == 4
    # Another accuracy at the same time and place is another fix (stored; flagged, as it is out of order).
    other_accuracy = await _upload(client, phone, 4, fixes_along(HOME[:1], start, accuracy=30.0))
    assert other_accuracy.json()["duplicates"] == 0 and await _count(measure_id) == 5


async def test_identical_batches_sent_at_once_under_two_device_seqs_store_the_fixes_once(client, demo_logins):
    _, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    fixes = fixes_along(HOME, utcnow() - timedelta(minutes=20))
    for attempt in range(3):
        seqs = (10 * attempt + 1, 10 * attempt + 2)
        answers = await asyncio.gather(*(_upload(client, phone, seq, fixes) for seq in seqs))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        assert sum(a.json()["accepted"] for a in answers) == (3 if attempt == 0 else 0)
        assert await _count(measure_id) == 3


async def test_the_timeline_shows_the_whole_history_with_check_in_reasons_as_words(client, demo_logins):
    officer, case = await fenced_case(client, demo_logins)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await acknowledge(client, phone)
    start = utcnow() - timedelta(minutes=30)
    outside = [(30.40, 120.15), (30.41, 120.15), (30.42, 120.15), (30.42, 120.151)]
    left = await _upload(client, phone, 1, fixes_along(outside, start))
    assert [e["kind"] for e in left.json()["events"]] == ["left_allowed_area"], left.text
    redrawn = await client.put(
        f"/api/v1/measures/{measure_id}/zones",
        json={"type": "FeatureCollection", "features": [ALLOWED]},
        headers=bearer(officer),
    )
    assert redrawn.status_code == 200, redrawn.text
    checkin = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(phone))
    assert checkin.status_code == 201, checkin.text
    reasons = checkin.json()["reasons"]
    assert reasons, checkin.json()

    response = await client.get(f"/api/v1/measures/{measure_id}/timeline", headers=bearer(officer))
    assert response.status_code == 200, response.text
    items = _items(response.json())
    by_kind = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    assert by_kind[f"checkin.{checkin.json()['outcome']}"][0]["summary"] == ", ".join(reasons)
    assert by_kind["fence.left_allowed_area"][0]["ref_id"] == left.json()["events"][0]["id"]
    assert len(by_kind["notice.acknowledged"]) == 1
    # Two drawings (the setup's two zones, then one): one item each, not one per zone.
    assert [i["summary"] for i in by_kind["zones.replaced"]] == [
        "1 zone(s): allowed",
        "2 zone(s): allowed, forbidden",
    ]
    ats = [datetime.fromisoformat(i["at"].replace("Z", "+00:00")) for i in items]
    assert ats == sorted(ats, reverse=True), "newest first"
