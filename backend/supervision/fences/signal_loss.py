"""Phones that stopped sending fixes: a `signal_lost` event for each, never a breach and never points;
one silent for longer than its agency's threshold gets an officer task and a message (signal_loss_tasks)."""

from __future__ import annotations

from datetime import datetime, timedelta

import geofence
from backend.core.clock import utcnow
from backend.db.engine import write_tx
from backend.db.json import loaded
from backend.supervision.fences import signal_loss_tasks, store
from backend.supervision.fences import uploads as locations
from backend.supervision.fences.tables import FenceState
from backend.supervision.measures import store as measures_store
from backend.supervision.measures.tables import Measure


async def sweep_signal_loss(now: datetime | None = None) -> int:
    """Phones that stopped sending fixes: a `signal_lost` event (never a breach, never points).

    Only states untouched for the loss period are looked at; each is judged on its own, as the upload does,
    under the measure's row lock with its state read again: a sweep running at the same time, or an upload
    that just arrived, is never overwritten, and a loss is recorded once.
    Then losses longer than the agency's threshold open their task (once per loss). Returns the new losses.
    """
    now, settings = now or utcnow(), locations.SETTINGS
    quiet_since = now - timedelta(seconds=settings.signal_loss_s)
    rows = await FenceState.objects().where(
        (FenceState.updated_at < quiet_since) & (FenceState.measure.status == "active")
    )
    lost = 0
    for row in rows:
        if geofence.PersonState.from_json(loaded(row.state)).signal_lost:
            continue
        measure = await Measure.objects().where(Measure.id == row.measure).first()
        async with write_tx():
            await measures_store.lock(row.measure)
            current = await store.fence_state_quiet_since(row.measure, quiet_since)
            if current is None:  # an upload got in first: the phone is not silent after all
                continue
            person_state = geofence.PersonState.from_json(loaded(current))
            if person_state.signal_lost:  # another sweep recorded it
                continue
            swept = geofence.State.from_persons([person_state], settings.proof_fixes - 1)
            state, events = geofence.sweep_signal(swept, now.timestamp(), settings)
            if not events:
                continue
            for event in events:
                await locations.record_event(measure, event)
            new_state = state.person(locations.PERSON)
            await FenceState.update({FenceState.state: new_state.to_json() if new_state else {}}).where(
                FenceState.measure == row.measure
            )
        lost += 1
    await signal_loss_tasks.open_for_long_losses(now)
    return lost
