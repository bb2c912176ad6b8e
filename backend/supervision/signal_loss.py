"""Phones that stopped sending fixes: a `signal_lost` event for each, never a breach and never points."""

from __future__ import annotations

from datetime import datetime, timedelta

import geofence
from backend.core.clock import utcnow
from backend.db.engine import write_tx
from backend.db.json import loaded
from backend.supervision import locations
from backend.supervision.tables import FenceState, Measure


async def sweep_signal_loss(now: datetime | None = None) -> int:
    """Phones that stopped sending fixes: a `signal_lost` event (never a breach, never points).

    Only states untouched for the loss period are looked at; each is judged on its own, as the upload does.
    """
    now, settings = now or utcnow(), locations.SETTINGS
    quiet_since = now - timedelta(seconds=settings.signal_loss_s)
    rows = await FenceState.objects().where(
        (FenceState.updated_at < quiet_since) & (FenceState.measure.status == "active")
    )
    lost = 0
    for row in rows:
        person_state = geofence.PersonState.from_json(loaded(row.state))
        if person_state.signal_lost:
            continue
        state, events = geofence.sweep_signal(
            geofence.State.from_persons([person_state], settings.proof_fixes - 1), now.timestamp(), settings
        )
        if not events:
            continue
        measure = await Measure.objects().where(Measure.id == row.measure).first()
        async with write_tx():
            for event in events:
                await locations.record_event(measure, event)
            new_state = state.person(locations.PERSON)
            await FenceState.update({FenceState.state: new_state.to_json() if new_state else {}}).where(
                FenceState.measure == row.measure
            )
        lost += 1
    return lost
