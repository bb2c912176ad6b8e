"""Location streams for a measure: batched fix uploads judged by geofence against the measure's compiled
fences (compiled.py), state changes turned into events, ledger rows and handling. Zones are drawn in
backend.supervision.fences.zones; the console's track is read in backend.supervision.fences.track; a
check-in's single fix is judged in checkin_fix.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

import geofence
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM
from backend.core.errors import InvalidInput
from backend.core.ids import uuid7
from backend.db.engine import let_writers_finish, write_tx
from backend.db.json import loaded
from backend.supervision.fences import store
from backend.supervision.fences.compiled import PERSON, fences_for
from backend.supervision.fences.fix_dedup import batch_hash, distinct, fix_key, stored_keys
from backend.supervision.fences.fix_times import check_fix_times
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import entries as ledger
from backend.supervision.measures import store as measures_store
from backend.supervision.measures.services import my_measure, note_activity
from backend.supervision.measures.tables import Measure
from geofence.schedule import local_seconds

MAX_FIXES_PER_BATCH = 2000
EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()  # local epoch seconds // 86400 + this = date ordinal
BREACHES = {"left_allowed_area", "entered_forbidden_place", "curfew_broken"}
SETTINGS = geofence.Settings()


async def upload(principal: Principal, device_seq: int, fixes: list[dict]) -> dict:
    """Judge one batch from the phone. Offline-buffered fixes keep their own timestamps; a retried batch
    (same device sequence number, same fixes) returns the first answer and changes nothing; that number with
    other fixes is refused. Fixes stored already are not stored again
    (backend.supervision.fences.fix_dedup)."""
    measure = await my_measure(principal)
    if not 1 <= len(fixes) <= MAX_FIXES_PER_BATCH:
        raise InvalidInput("fixes", f"send 1-{MAX_FIXES_PER_BATCH} fixes per batch")
    scoped = f"{measure.id}:{device_seq}"
    now = utcnow()
    check_fix_times(measure, [f["t"] for f in fixes], now)  # before any work: the work follows the times
    # Sorted on the whole fix, so a retry that lists fixes of one instant in another order is the same batch.
    fixes = sorted(fixes, key=lambda f: (f["t"], f["lat"], f["lon"], f["accuracy_m"]))
    received = len(fixes)
    if len(kept := distinct(fixes)) < received:  # a fix repeated within the batch is one fix
        fixes = [fixes[i] for i in kept]
    sent = len(fixes)
    try:
        batch = geofence.FixBatch.from_arrays(
            PERSON,
            [f["t"].timestamp() for f in fixes],
            [f["lat"] for f in fixes],
            [f["lon"] for f in fixes],
            [f["accuracy_m"] for f in fixes],
            mock=[bool(f.get("mock", False)) for f in fixes],
            fix_id=np.arange(len(fixes)),
            received_at=now.timestamp(),
        )
    except geofence.FixBatchError as exc:
        raise InvalidInput("fixes", str(exc)) from None
    fixes_hash = batch_hash(batch)
    # Fences can differ by day (approved trips): each local day's fixes are judged with that day's fences.
    days = np.floor_divide(local_seconds(measure.timezone, batch.t), 86400.0).astype(np.int64) + EPOCH_ORDINAL
    fences_of = {d: await fences_for(measure, datetime.fromordinal(d).date()) for d in set(days.tolist())}
    # Judged before taking the write lock, from the state as last stored: judging is the costly part, and
    # other uploads (other persons, other server processes) write meanwhile. Under the lock the state is
    # read again; only if another upload of this person got in between is the batch judged again.
    await let_writers_finish()  # judging takes milliseconds: not while this process's writers hold the lock
    judged_from = await store.fence_state(measure.id)
    person_state, events, flags = _judge(judged_from, batch, days, fences_of)
    # What goes into the database is made ready before the write lock too: the lock is the one thing all
    # server processes wait for, and sqlite3's adapters would otherwise run for each of 100 rows under it.
    state, rows = _state_text(person_state), store.fix_rows(measure.id, fixes, flags.tolist())
    # The hottest write path of the platform: hand-written statements (see backend.db.sql).
    async with write_tx():
        # One upload of a person at a time (PostgreSQL; SQLite writes one transaction at a time anyway).
        await measures_store.lock(measure.id)
        earlier = await store.earlier_batch(scoped)
        if earlier is not None:
            if earlier["fixes_hash"] and earlier["fixes_hash"] != fixes_hash:
                raise InvalidInput("device_seq", "already sent with other fixes: send these under a new one")
            return loaded(earlier["result"], {}) | {"replayed": True}
        current = await store.fence_state(measure.id)
        # Fixes stored already (the same fixes re-sent under a new device_seq) are not stored again.
        if stored := await stored_keys(measure.id, fixes):
            new = np.array([i for i, f in enumerate(fixes) if _key(f) not in stored], dtype=np.int64)
            fixes, batch, days = [fixes[i] for i in new.tolist()], batch.take(new), days[new]
        if not fixes:
            events, flags, rows = [], flags[:0], []
        elif current != judged_from or len(fixes) < sent:
            person_state, events, flags = _judge(current, batch, days, fences_of)
            state, rows = _state_text(person_state), store.fix_rows(measure.id, fixes, flags.tolist())
        if fixes:
            await store.set_fence_state(measure.id, state, now)
            await store.insert_fixes(rows)
        recorded = [await record_event(measure, event) for event in events]
        await note_activity(measure, now)
        result = {
            "accepted": int((flags == 0).sum()),
            "flagged": int((flags != 0).sum()),
            "events": [e for e in recorded if e],
            "duplicates": received - len(fixes),  # fixes stored before, not stored again
        }
        await store.insert_batch(uuid7(), measure.id, scoped, now, len(fixes), fixes_hash, result)
        await audit.record(
            principal.actor,
            "locations.uploaded",
            "measure",
            measure.id,
            {"seq": device_seq, "fixes": len(fixes), "events": result["events"]},
            measure.executing_agency,
        )
    return result | {"replayed": False}


def _key(fix: dict) -> tuple:
    return fix_key(fix["t"], fix["lat"], fix["lon"], fix["accuracy_m"])


def _state_text(person_state: geofence.PersonState | None) -> str:
    return json.dumps(person_state.to_json() if person_state else {})


def _judge(stored: str | None, batch: geofence.FixBatch, days: np.ndarray, fences_of: dict) -> tuple:
    """The batch judged from the stored state, each local day with that day's fences."""
    person_state = geofence.PersonState.from_json(loaded(stored)) if stored else None
    events, flags = [], np.zeros(len(batch), dtype=np.int64)
    for day in sorted(fences_of):
        idx = np.nonzero(days == day)[0]
        compiled = fences_of[day]
        person_state, day_events, day_flags = geofence.judge_person(
            PERSON, compiled.fences, person_state, batch.take(idx), SETTINGS, book=compiled.book
        )
        events += day_events
        flags[idx] = day_flags
    return person_state, events, flags


async def record_event(measure: Measure, event: geofence.Event) -> dict:
    at = datetime.fromtimestamp(event.at, UTC)
    event_id, kind = uuid7(), str(event.kind)
    severity = str(event.severity) if event.severity else None
    reason = event.reason or ""
    ledger_entry = None
    if kind in BREACHES:
        booking = await ledger.apply(
            measure,
            "fence_breach",
            SYSTEM,
            f"{kind.replace('_', ' ')} ({severity or 'medium'})",
            rule_id=f"fence_breach_{severity or 'medium'}",
            evidence=("fence_event", event_id),
        )
        await handling.follow_code_change(measure, booking, SYSTEM)
        ledger_entry = booking.id
    elif kind == "fix_flagged":
        # Spoofing signs are never silently accepted, nor scored: an officer looks.
        await handling.open_task(
            measure, "review", f"Location flagged: {reason}", ref_type="fence_event", ref_id=event_id
        )
    await store.insert_event(
        event_id,
        measure.id,
        kind,
        at,
        event.zone_id,
        severity,
        reason,
        [f.to_json() for f in event.fixes],
        ledger_entry,
    )
    return {
        "id": str(event_id),
        "kind": kind,
        "at": at.isoformat(),
        "zone_id": event.zone_id,
        "severity": severity,
        "reason": reason,
    }
