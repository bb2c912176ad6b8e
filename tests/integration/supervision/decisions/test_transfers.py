"""A stage transfer needs the receiving agency's acceptance; then it sees the whole history."""

from __future__ import annotations

from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place, miss


async def test_transfer_needs_acceptance_then_the_new_agency_sees_the_history(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    judge = await demo_staff(client, demo_logins, "judge")
    case = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    await miss(client, officer, measure_id)
    agencies = (await client.get("/api/v1/agencies", params={"limit": 200}, headers=bearer(officer))).json()[
        "items"
    ]
    procuratorate = next(a for a in agencies if a["kind"] == "procuratorate" and a["region_code"] == "330100")
    court = next(a for a in agencies if a["kind"] == "court" and a["region_code"] == "330100")
    wrong_kind = await client.post(
        f"/api/v1/measures/{measure_id}/transfers",
        json={"to_agency_id": court["id"], "to_stage": "prosecution"},
        headers=bearer(officer),
    )
    assert wrong_kind.status_code == 422
    transfer = (
        await client.post(
            f"/api/v1/measures/{measure_id}/transfers",
            json={
                "to_agency_id": procuratorate["id"],
                "to_stage": "prosecution",
                "note": "Case file sent for review",
            },
            headers=bearer(officer),
        )
    ).json()
    assert transfer["status"] == "pending"
    # Not yet accepted: the judge's court cannot see it, and the prosecutor cannot act on it.
    assert (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(judge))).status_code == 404
    decline_by_court = await client.post(
        f"/api/v1/transfers/{transfer['id']}/decision", json={"approve": True}, headers=bearer(judge)
    )
    assert decline_by_court.status_code == 404
    incoming = (await client.get("/api/v1/transfers/incoming", headers=bearer(prosecutor))).json()["items"]
    assert transfer["id"] in {t["id"] for t in incoming}
    accepted = await client.post(
        f"/api/v1/transfers/{transfer['id']}/decision",
        json={"approve": True, "note": "ok"},
        headers=bearer(prosecutor),
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    detail = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(prosecutor))).json()
    assert detail["stage"] == "prosecution" and detail["executing_agency_id"] == procuratorate["id"]
    ledger = (await client.get(f"/api/v1/measures/{measure_id}/ledger", headers=bearer(prosecutor))).json()[
        "items"
    ]
    assert [e["event"] for e in ledger] == ["missed_checkin"]
    timeline = (
        await client.get(f"/api/v1/measures/{measure_id}/timeline", headers=bearer(prosecutor))
    ).json()["items"]
    assert any(i["kind"] == "transfer.accepted" for i in timeline)
    # The police keep read access to the history they wrote, but no longer act on the measure.
    assert (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).status_code == 200
    act = await client.post(
        f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": 10}, headers=bearer(officer)
    )
    assert act.status_code == 403
    assert (
        await client.post(
            f"/api/v1/measures/{measure_id}/random-checkins", json={"minutes": 10}, headers=bearer(prosecutor)
        )
    ).status_code == 201
