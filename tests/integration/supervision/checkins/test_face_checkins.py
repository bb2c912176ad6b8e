"""Face-verified check-ins end to end, on real photos and the real models."""

from __future__ import annotations

import base64
import dataclasses
import os
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.audit.tables import AuditEntry
from backend.biometrics.tables import FaceAttempt, FaceTemplateRecord
from backend.settings import get_settings
from tests.support.api import bearer, demo_staff
from tests.support.supervision import SELFIE, acknowledge, checkin_body, enrol_and_place, open_window

FACES = Path(os.environ.get("FACES_DIR", "../shared/faces"))
pytestmark = pytest.mark.skipif(not FACES.is_dir(), reason="set FACES_DIR to the LFW photo folder")


def photo(identity: str, number: int) -> str:
    return base64.b64encode((FACES / identity / f"{identity}_{number:04d}.jpg").read_bytes()).decode()


async def _enrolled(client, officer, identity="George_W_Bush"):
    case = await enrol_and_place(client, officer)
    enrolled = await client.post(
        f"/api/v1/measures/{case['measure']['id']}/face-enrolment",
        json={"photos_jpeg_base64": [photo(identity, n) for n in (1, 2, 3)]},
        headers=bearer(officer),
    )
    assert enrolled.status_code == 201, enrolled.text
    await acknowledge(client, case["phone"])
    return case


async def test_health_reports_the_loaded_models(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    face = (await client.get("/health", headers=bearer(officer))).json()["components"]["face"]
    assert face["ok"] is True
    files = {m["file"]: m["sha256"] for m in face["info"]["models"]}
    assert "w600k_mbf_int8.onnx" in files and all(len(h) == 64 for h in files.values())


async def test_same_person_accepted_other_person_rejected_and_scored(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    record = await FaceTemplateRecord.objects().where(FaceTemplateRecord.person == case["person_id"]).first()
    assert record is not None and b"George" not in bytes(record.sealed)

    await open_window(client, officer, measure_id)
    same = await client.post(
        "/m/v1/checkins",
        json=checkin_body(selfie_jpeg_base64=photo("George_W_Bush", 5)),
        headers=bearer(phone),
    )
    assert same.json()["outcome"] in ("accepted", "doubtful"), (
        same.json()
    )  # liveness may ask for a video call
    assert "face_mismatch" not in same.json()["reasons"]

    await open_window(client, officer, measure_id)
    other = await client.post(
        "/m/v1/checkins",
        json=checkin_body(selfie_jpeg_base64=photo("Colin_Powell", 1)),
        headers=bearer(phone),
    )
    assert other.json()["outcome"] == "rejected" and "face_mismatch" in other.json()["reasons"]
    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(officer))).json()[
        "items"
    ]
    assert [(e["rule_id"], e["points"]) for e in ledger] == [("failed_face_match", -10)]
    attempts = await FaceAttempt.objects().where(
        (FaceAttempt.person == case["person_id"]) & (FaceAttempt.purpose == "checkin")
    )
    assert len(attempts) == 2 and all(a.similarity is not None for a in attempts)


async def test_a_selfie_that_is_not_an_image_is_refused_and_one_without_a_face_costs_nothing(
    client, demo_logins
):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    await open_window(client, officer, case["measure"]["id"])
    blank = base64.b64encode(b"not a jpeg at all").decode()
    refused = await client.post(
        "/m/v1/checkins", json=checkin_body(selfie_jpeg_base64=blank), headers=bearer(case["phone"])
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "selfie_jpeg_base64"
    assert not await FaceAttempt.exists().where(
        (FaceAttempt.person == case["person_id"]) & (FaceAttempt.purpose == "checkin")
    )
    no_face = await client.post(  # an image, but of a grey wall
        "/m/v1/checkins", json=checkin_body(selfie_jpeg_base64=SELFIE), headers=bearer(case["phone"])
    )
    assert no_face.json()["outcome"] == "technical_failure"
    detail = (await client.get(f"/api/v1/measures/{case['measure']['id']}", headers=bearer(officer))).json()
    assert detail["score"] == 100


async def test_leaving_the_location_out_does_not_skip_the_face_check(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    await open_window(client, officer, case["measure"]["id"])
    someone_else = await client.post(
        "/m/v1/checkins",
        json=checkin_body(location=None, selfie_jpeg_base64=photo("Colin_Powell", 1)),
        headers=bearer(case["phone"]),
    )
    assert {"no_gps_fix", "face_mismatch"} <= set(someone_else.json()["reasons"])
    ledger = (
        await client.get(f"/api/v1/measures/{case['measure']['id']}/ledger", headers=bearer(officer))
    ).json()["items"]
    ledger = ledger["items"] if isinstance(ledger, dict) else ledger
    assert [(e["rule_id"], e["points"]) for e in ledger] == [("failed_face_match", -10)]


async def test_health_tells_every_caller_the_models_are_for_non_commercial_research(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    for headers in ({}, bearer(officer)):
        face = (await client.get("/health", headers=headers)).json()["components"]["face"]
        assert "non-commercial research only" in face["licence"]


async def test_five_rejections_in_a_row_make_the_person_wait(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    for _ in range(5):
        await open_window(client, officer, case["measure"]["id"])
        rejected = await client.post(
            "/m/v1/checkins",
            json=checkin_body(selfie_jpeg_base64=photo("Colin_Powell", 2)),
            headers=bearer(case["phone"]),
        )
        assert rejected.json()["outcome"] == "rejected"
    waiting = await client.post(
        "/m/v1/checkins",
        json=checkin_body(selfie_jpeg_base64=photo("George_W_Bush", 6)),
        headers=bearer(case["phone"]),
    )
    assert waiting.status_code == 423 and int(waiting.headers["retry-after"]) >= 25
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "face.locked") & (AuditEntry.object_id == case["person_id"])
    )


async def test_check_ins_sent_together_get_no_more_face_comparisons_than_the_limit(client, demo_logins):
    """Attempts are counted before the model runs: eight wrong faces at once are compared five times, the
    other three wait (423), and the person ends locked, on either database. (On PostgreSQL this also caught
    concurrent check-ins of one person deadlocking on the measure row: see sql.fetch_one_for_update.)"""
    import asyncio

    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    for _ in range(8):
        await open_window(client, officer, case["measure"]["id"])
    wrong = photo("Colin_Powell", 2)
    answers = await asyncio.gather(
        *(
            client.post(
                "/m/v1/checkins",
                json=checkin_body(selfie_jpeg_base64=wrong),
                headers=bearer(case["phone"]),
            )
            for _ in range(8)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 5 + [423] * 3, [a.text[:200] for a in answers]
    assert all(a.json()["outcome"] == "rejected" for a in answers if a.status_code == 201)
    compared = FaceAttempt.count().where(
        (FaceAttempt.person == case["person_id"]) & (FaceAttempt.purpose == "checkin")
    )
    assert await compared == 5
    later = await client.post(
        "/m/v1/checkins",
        json=checkin_body(selfie_jpeg_base64=photo("George_W_Bush", 6)),
        headers=bearer(case["phone"]),
    )
    assert later.status_code == 423


async def test_a_keyed_check_in_refused_by_the_face_lock_runs_again_on_its_retry(client, demo_logins):
    """Counting the attempt is bookkeeping, not the request's state change: the phone's offline queue
    resends the same check-in with the same Idempotency-Key after the lock, and it is judged, not answered
    with the stored 423."""
    import uuid

    from backend.accounts.tables import LoginGuard

    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    await open_window(client, officer, case["measure"]["id"])
    for _ in range(5):
        await client.post(
            "/m/v1/checkins",
            json=checkin_body(selfie_jpeg_base64=photo("Colin_Powell", 2)),
            headers=bearer(case["phone"]),
        )
    keyed = bearer(case["phone"]) | {"Idempotency-Key": str(uuid.uuid4())}
    body = checkin_body(selfie_jpeg_base64=photo("George_W_Bush", 6))
    locked = await client.post("/m/v1/checkins", json=body, headers=keyed)
    assert locked.status_code == 423
    await LoginGuard.delete().where(LoginGuard.subject == f"face:{case['person_id']}")  # the wait is over
    retried = await client.post("/m/v1/checkins", json=body, headers=keyed)
    assert retried.status_code == 201, retried.text
    assert retried.headers.get("idempotent-replayed") is None
    assert retried.json()["outcome"] == "accepted"


async def test_enrolment_refuses_bad_photo_sets(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    path = f"/api/v1/measures/{case['measure']['id']}/face-enrolment"
    two = await client.post(
        path, json={"photos_jpeg_base64": [photo("George_W_Bush", 1)] * 2}, headers=bearer(officer)
    )
    assert two.status_code == 400 and two.json()["errors"][0]["field"] == "photos_jpeg_base64"
    mixed = await client.post(
        path,
        json={
            "photos_jpeg_base64": [
                photo("George_W_Bush", 1),
                photo("George_W_Bush", 2),
                photo("Colin_Powell", 1),
            ]
        },
        headers=bearer(officer),
    )
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "photos"
    judge = await demo_staff(client, demo_logins, "judge")
    foreign = await client.post(
        path,
        json={"photos_jpeg_base64": [photo("George_W_Bush", n) for n in (1, 2, 3)]},
        headers=bearer(judge),
    )
    assert foreign.status_code == 404


async def test_ending_the_measure_purges_the_template(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    ended = await client.post(
        f"/api/v1/measures/{case['measure']['id']}/end",
        json={"reason": "Case closed: charges withdrawn"},
        headers=bearer(officer),
    )
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert not await FaceTemplateRecord.exists().where(FaceTemplateRecord.person == case["person_id"])
    assert await AuditEntry.exists().where(
        (AuditEntry.action == "face.template_purged") & (AuditEntry.object_id == case["person_id"])
    )


async def test_missing_models_leave_the_service_up_and_failures_cost_nothing(client, demo_logins, tmp_path):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await _enrolled(client, officer)
    app = create_app(dataclasses.replace(get_settings(), face_model_dir=tmp_path / "no-models"))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50003))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        health = (await other.get("/health")).json()
        assert health["status"] == "ok"
        face = health["components"]["face"]
        assert face["ok"] is False and "FACE_MODEL_DIR" in face["detail"]
        await open_window(other, officer, case["measure"]["id"])
        response = await other.post(
            "/m/v1/checkins",
            json=checkin_body(selfie_jpeg_base64=photo("George_W_Bush", 4)),
            headers=bearer(case["phone"]),
        )
    await app.state.services.close()
    assert response.json()["outcome"] == "technical_failure"
    assert "face_service_unavailable" in response.json()["reasons"]
    detail = (await client.get(f"/api/v1/measures/{case['measure']['id']}", headers=bearer(officer))).json()
    assert detail["score"] == 100


async def test_raw_photos_are_kept_only_when_the_agency_turns_it_on(client, demo_logins, app):
    import hashlib

    officer = await demo_staff(client, demo_logins, "officer")
    admin = await demo_staff(client, demo_logins, "admin")
    storage = app.state.services.storage
    case = await _enrolled(client, officer)
    selfie = photo("George_W_Bush", 7)
    digest = hashlib.sha256(base64.b64decode(selfie)).hexdigest()
    await open_window(client, officer, case["measure"]["id"])
    await client.post(
        "/m/v1/checkins", json=checkin_body(selfie_jpeg_base64=selfie), headers=bearer(case["phone"])
    )
    attempt = await FaceAttempt.objects().where(FaceAttempt.image_sha256 == digest).first()
    assert attempt.image_kept is False and not storage.path_of(digest).exists()
    enrolment = await FaceAttempt.objects().where(
        (FaceAttempt.person == case["person_id"]) & (FaceAttempt.purpose == "enrolment")
    )
    assert len(enrolment) == 3 and not any(a.image_kept for a in enrolment)

    agency = case["measure"]["executing_agency_id"]
    denied = await client.put(
        f"/api/v1/agencies/{agency}/privacy", json={"keep_face_images": True}, headers=bearer(officer)
    )
    assert denied.status_code == 403
    turned_on = await client.put(
        f"/api/v1/agencies/{agency}/privacy", json={"keep_face_images": True}, headers=bearer(admin)
    )
    assert turned_on.status_code == 200
    try:
        kept_selfie = photo("George_W_Bush", 8)
        kept_digest = hashlib.sha256(base64.b64decode(kept_selfie)).hexdigest()
        await open_window(client, officer, case["measure"]["id"])
        await client.post(
            "/m/v1/checkins", json=checkin_body(selfie_jpeg_base64=kept_selfie), headers=bearer(case["phone"])
        )
        attempt = await FaceAttempt.objects().where(FaceAttempt.image_sha256 == kept_digest).first()
        assert attempt.image_kept is True and storage.path_of(kept_digest).exists()
    finally:
        await client.put(
            f"/api/v1/agencies/{agency}/privacy", json={"keep_face_images": False}, headers=bearer(admin)
        )
