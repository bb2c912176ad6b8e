"""Indoor signal loss is reported as a loss, never a breach."""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import utcnow
from tests.support.api import bearer
from tests.support.fences import fenced_case, fixes_along


async def test_indoor_signal_loss_is_reported_as_loss_not_breach(client, demo_logins):
    from backend.supervision.fences.signal_loss import sweep_signal_loss
    from backend.supervision.fences.tables import FenceEvent, FenceState

    officer, case = await fenced_case(client, demo_logins)
    measure_id = case["measure"]["id"]
    start = utcnow() - timedelta(minutes=40)
    await client.post(
        "/m/v1/locations",
        json={
            "device_seq": 1,
            "fixes": fixes_along([(30.27, 120.15), (30.2701, 120.1501), (30.2702, 120.1502)], start),
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
        json={"device_seq": 2, "fixes": fixes_along([(30.2703, 120.1503)], utcnow() - timedelta(seconds=30))},
        headers=bearer(case["phone"]),
    )
    assert [e["kind"] for e in back.json()["events"]] == ["signal_restored"]
