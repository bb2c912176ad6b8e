"""Summonses: announced, reminded once, and a miss costs points."""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import utcnow
from backend.supervision.decisions.tables import Summons
from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place


async def test_summons_is_announced_reminded_once_and_a_miss_costs_points(client, demo_logins):
    from backend.supervision.decisions import summonses

    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    soon = await client.post(
        f"/api/v1/measures/{measure_id}/summonses",
        json={"at": utcnow().isoformat(), "place": "Xihu PSB, room 3"},
        headers=bearer(officer),
    )
    assert soon.status_code == 422 and soon.json()["errors"][0]["field"] == "at"
    at = utcnow() + timedelta(hours=20)
    issued = await client.post(
        f"/api/v1/measures/{measure_id}/summonses",
        json={"at": at.isoformat(), "place": "Xihu PSB, room 3", "purpose": "Questioning"},
        headers=bearer(officer),
    )
    assert issued.status_code == 201, issued.text
    summons = issued.json()
    assert [
        s["id"] for s in (await client.get("/m/v1/summonses", headers=bearer(phone))).json()["items"]
    ] == [summons["id"]]
    inbox = (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
    assert any(m["kind"] == "summons" and "room 3" in m["body"] for m in inbox)

    # 24 h ahead: one reminder; again (a restarted scheduler): nothing; 1 h ahead: the urgent one.
    assert await summonses.remind() >= 1
    assert await summonses.remind() == 0
    assert await summonses.remind(at - timedelta(minutes=50)) >= 1
    reminders = [
        m
        for m in (await client.get("/m/v1/inbox", headers=bearer(phone))).json()["items"]
        if m["kind"] == "summons_reminder"
    ]
    assert len(reminders) == 2

    early = await client.post(
        f"/api/v1/summonses/{summons['id']}/outcome", json={"attended": False}, headers=bearer(officer)
    )
    assert early.status_code == 422
    await Summons.update({Summons.at: utcnow() - timedelta(hours=1)}).where(Summons.id == summons["id"])
    missed = await client.post(
        f"/api/v1/summonses/{summons['id']}/outcome",
        json={"attended": False, "note": "No show, phone off"},
        headers=bearer(officer),
    )
    assert missed.status_code == 200 and missed.json()["status"] == "missed"
    ledger = (await client.get("/m/v1/measure/ledger", headers=bearer(phone))).json()["items"]
    assert [(e["rule_id"], e["points"], e["evidence_type"]) for e in ledger] == [
        ("missed_summons", -20, "summons")
    ]
    again = await client.post(
        f"/api/v1/summonses/{summons['id']}/outcome", json={"attended": True}, headers=bearer(officer)
    )
    assert again.status_code == 409
