"""A contested ledger entry: upheld, it is taken back with an opposite row; rejected, the points stay."""

from __future__ import annotations

import base64
import hashlib

from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place, miss


async def test_contest_upheld_reverses_the_entry(client, demo_logins, app):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await miss(client, officer, measure_id)
    entry = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"][-1]
    proof = base64.b64encode(b"%PDF-1.4 hospital admission note").decode()
    filed = await client.post(
        f"/m/v1/ledger/{entry['id']}/contests",
        json={
            "text": "I was in hospital; the note is attached",
            "files": [{"name": "note.pdf", "content_base64": proof}],
        },
        headers=bearer(phone),
    )
    assert filed.status_code == 201, filed.text
    contest = filed.json()
    assert (
        contest["attachments"][0]["sha256"] == hashlib.sha256(b"%PDF-1.4 hospital admission note").hexdigest()
    )
    assert app.state.services.storage.path_of(contest["attachments"][0]["sha256"]).exists()
    duplicate = await client.post(
        f"/m/v1/ledger/{entry['id']}/contests", json={"text": "again"}, headers=bearer(phone)
    )
    assert duplicate.status_code == 409
    tasks = (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    assert any(t["kind"] == "contest" and t["ref_id"] == contest["id"] for t in tasks)

    decided = await client.post(
        f"/api/v1/contests/{contest['id']}/decision",
        json={"approve": True, "note": "Hospital record checked"},
        headers=bearer(officer),
    )
    assert decided.status_code == 200 and decided.json()["status"] == "upheld"
    ledger = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"]
    assert (
        ledger[-1]["event"] == "contest_upheld"
        and ledger[-1]["points"] == 5
        and ledger[-1]["score_after"] == 100
    )
    assert [e["status"] for e in ledger if e["id"] == entry["id"]] == ["overturned"]
    assert not any(
        t["ref_id"] == contest["id"]
        for t in (await client.get("/api/v1/tasks", headers=bearer(officer))).json()["items"]
    )
    assert any(
        m["kind"] == "contest_decided"
        for m in (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    )


async def test_contest_rejected_keeps_the_points(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await miss(client, officer, case["measure"]["id"])
    entry = (await client.get("/m/v1/measure/ledger", headers=bearer(case["phone"]))).json()["items"][-1]
    contest = (
        await client.post(
            f"/m/v1/ledger/{entry['id']}/contests", json={"text": "Not me"}, headers=bearer(case["phone"])
        )
    ).json()
    no_reason = await client.post(
        f"/api/v1/contests/{contest['id']}/decision", json={"approve": False}, headers=bearer(officer)
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "note"
    rejected = await client.post(
        f"/api/v1/contests/{contest['id']}/decision",
        json={"approve": False, "note": "No evidence"},
        headers=bearer(officer),
    )
    assert rejected.json()["status"] == "rejected"
    detail = (await client.get(f"/api/v1/measures/{case['measure']['id']}", headers=bearer(officer))).json()
    assert detail["score"] == 95
