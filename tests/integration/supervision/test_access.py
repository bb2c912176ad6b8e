"""Every supervision endpoint checks who is asking."""

from __future__ import annotations

import uuid

from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place, miss


async def test_every_supervision_endpoint_checks_who_is_asking(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    judge = await demo_staff(client, demo_logins, "judge")
    case = await enrol_and_place(client, officer)
    other = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    await miss(client, officer, measure_id)
    entry = (await client.get("/m/v1/measure/ledger", headers=bearer(case["phone"]))).json()["items"][-1]
    for path in ("", "/ledger", "/checkins", "/windows", "/timeline", "/contests", "/travel-requests"):
        assert (
            await client.get(f"/api/v1/measures/{measure_id}{path}", headers=bearer(judge))
        ).status_code == 404
        assert (
            await client.get(f"/api/v1/measures/{uuid.uuid4()}{path}", headers=bearer(officer))
        ).status_code == 404
    for path, body in (
        ("/random-checkins", {"minutes": 10}),
        (f"/ledger/{entry['id']}/excuse", {"reason": "x"}),
    ):
        assert (
            await client.post(f"/api/v1/measures/{measure_id}{path}", json=body, headers=bearer(judge))
        ).status_code == 404
    # Another person's ledger entry cannot be contested; phone users cannot reach console endpoints.
    foreign = await client.post(
        f"/m/v1/ledger/{entry['id']}/contests", json={"text": "mine?"}, headers=bearer(other["phone"])
    )
    assert foreign.status_code == 404
    assert (
        await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(case["phone"]))
    ).status_code == 403
    board = (
        await client.get("/api/v1/supervision/board", params={"limit": 200}, headers=bearer(judge))
    ).json()
    assert measure_id not in {r["measure_id"] for r in board["items"]}
    mine = (
        await client.get(
            "/api/v1/supervision/board", params={"code": "green", "limit": 200}, headers=bearer(officer)
        )
    ).json()
    assert measure_id in {r["measure_id"] for r in mine["items"]}
    assert (
        await client.post(f"/m/v1/inbox/{uuid.uuid4()}/read", headers=bearer(case["phone"]))
    ).status_code == 404
    # Another agency's handling plan is not even visible; changing it is for that agency's administrator.
    agency = (await client.get(f"/api/v1/measures/{measure_id}", headers=bearer(officer))).json()[
        "executing_agency_id"
    ]
    plan_url = f"/api/v1/agencies/{agency}/handling-plan"
    assert (await client.get(plan_url, headers=bearer(judge))).status_code == 404
    assert (await client.get(plan_url, headers=bearer(case["phone"]))).status_code == 403
    assert (
        await client.put(plan_url, json={"red_sms_officers": False}, headers=bearer(judge))
    ).status_code in (403, 404)
