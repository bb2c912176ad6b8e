"""Location streams for a measure: batched fix uploads judged by geofence against its compiled fences, state
changes turned into events and ledger rows, signal loss, a check-in's fix. Zones are drawn in
backend.supervision.fences.zones; the console's track is read in backend.supervision.fences.track."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from geopy.distance import geodesic
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

import geofence
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM
from backend.core.errors import InvalidInput
from backend.core.ids import uuid7
from backend.db import sql
from backend.db.bulk import bulk_insert
from backend.db.engine import is_sqlite, let_writers_finish, write_tx
from backend.db.json import loaded
from backend.supervision.fences.allowed_areas import approved_trip_areas
from backend.supervision.fences.fix_dedup import batch_hash, distinct, fix_key, stored_keys
from backend.supervision.fences.fix_times import check_fix_times
from backend.supervision.fences.tables import LocationFix
from backend.supervision.fences.zones import shape_key as zone_shape_key
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import entries as ledger
from backend.supervision.measures.services import my_measure, note_activity
from backend.supervision.measures.tables import Measure
from geofence.classify import IN, OUT, classify
from geofence.schedule import local_seconds
from geofence.shapes import ShapeTable, compile_shape

MAX_FIXES_PER_BATCH = 2000
EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()  # local epoch seconds // 86400 + this = date ordinal
PERSON = 1  # geofence keys persons by integer; one measure is judged at a time
BREACHES = {"left_allowed_area", "entered_forbidden_place", "curfew_broken"}
SETTINGS = geofence.Settings()
FIX_COLUMNS = ["measure", "t", "latitude", "longitude", "accuracy_m", "mock", "flags"]


def _circle_polygon(lon: float, lat: float, radius_m: float, points: int = 64):
    ring = [
        geodesic(meters=radius_m).destination((lat, lon), bearing=360 * i / points) for i in range(points)
    ]
    return shape({"type": "Polygon", "coordinates": [[(p.longitude, p.latitude) for p in ring + ring[:1]]]})


def _widened(feature: dict, trips: list[dict]) -> dict:
    """An allowed zone plus the areas of trips approved for this day."""
    geometry = feature["geometry"]
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"][:2]
        base = _circle_polygon(lon, lat, float(feature["properties"]["radius_m"]))
        properties = {k: v for k, v in feature["properties"].items() if k != "radius_m"}
    else:
        base, properties = shape(geometry), feature["properties"]
    union = unary_union([base, *(shape(t) for t in trips)])
    # shapely's mapping() gives tuples; GeoJSON (and geofence's parser) wants arrays.
    return feature | {"geometry": json.loads(json.dumps(mapping(union))), "properties": properties}


@dataclasses.dataclass
class CompiledFences:
    fences: geofence.PersonFences
    book: geofence.FenceBook  # for judging upload streams
    unscheduled: tuple  # zones without a schedule, for judging a check-in's single fix
    _table: ShapeTable | None = None

    @property
    def table(self) -> ShapeTable:
        if self._table is None:
            self._table = ShapeTable([compile_shape(z.shape) for z in self.unscheduled])
        return self._table


_compiled: OrderedDict[tuple, CompiledFences] = OrderedDict()
# Every worker sees every phone, so the cache must hold a whole caseload or it misses on every upload (at
# 10,000 persons and 4,096 entries, later uploads were slower than first ones). About 6 KB an entry.
COMPILED_CACHE_SIZE = 16384


async def _fences(measure: Measure, day) -> CompiledFences:
    """A measure's fences for one local day, compiled once per (measure, fences_version, day) in a process:
    loading and compiling them costs more than judging a whole upload."""
    key = (str(measure.id), measure.fences_version, measure.timezone, day)
    if (hit := _compiled.get(key)) is not None:
        _compiled.move_to_end(key)
        return hit
    zones = await _active_zones(measure.id)
    trips = await approved_trip_areas(measure.id, day) if zones else []
    if trips:
        zones = [
            _zone_with_id(_widened(geofence.zone_to_geojson(z), trips), z.id)
            if z.role is geofence.Role.ALLOWED
            else z
            for z in zones
        ]
    fences = geofence.PersonFences(tuple(zones), tz=measure.timezone)
    unscheduled = tuple(z for z in zones if z.schedule is None)
    compiled = CompiledFences(fences, geofence.FenceBook({PERSON: fences}), unscheduled)
    _compiled[key] = compiled
    if len(_compiled) > COMPILED_CACHE_SIZE:
        _compiled.popitem(last=False)
    return compiled


async def _active_zones(measure_id: object) -> list[geofence.Zone]:
    """The measure's zones, parsed. Rows come back as (id, shape_key); only shapes this process has not
    parsed yet are loaded as GeoJSON, so a new person in a known county costs one small query."""
    rows = await sql.fetch(
        "SELECT id, shape_key FROM fence_zones WHERE measure = $1 AND active = $2 ORDER BY created_at",
        measure_id,
        True,
    )
    missing = {r["id"]: r for r in rows if r["shape_key"] not in _zone_by_shape}
    if missing:
        for row in await sql.fetch(_features_sql(len(missing)), *missing):
            feature = loaded(row["feature"])
            # Rows written before shape keys existed get theirs here.
            shape_key = missing[row["id"]]["shape_key"] or zone_shape_key(feature)
            _zone_by_shape[shape_key] = _zone_with_id(feature, "cached")
            missing[row["id"]]["shape_key"] = shape_key
    zones = []
    for r in rows:
        _zone_by_shape.move_to_end(r["shape_key"])
        zones.append(dataclasses.replace(_zone_by_shape[r["shape_key"]], id=str(r["id"])))
    while len(_zone_by_shape) > SHAPE_CACHE_SIZE:
        _zone_by_shape.popitem(last=False)
    return zones


@lru_cache(maxsize=64)
def _features_sql(n: int) -> str:
    marks = ", ".join(f"${i}" for i in range(1, n + 1))
    return f"SELECT id, feature FROM fence_zones WHERE id IN ({marks})"  # noqa: S608 - placeholders only


# Parsing and validating a 600-vertex county costs ~10 ms and many people share one county: each distinct
# shape is parsed once per process (the id, which differs per measure, is put back by the caller).
_zone_by_shape: OrderedDict[str, geofence.Zone] = OrderedDict()
SHAPE_CACHE_SIZE = 65536  # a home and a forbidden place per person are shapes of their own


def _zone_with_id(feature: dict, zone_id: str) -> geofence.Zone:
    return geofence.zone_from_geojson({k: v for k, v in feature.items() if k != "id"} | {"id": zone_id})


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
    fences_of = {day: await _fences(measure, datetime.fromordinal(day).date()) for day in set(days.tolist())}
    # Judged before taking the write lock, from the state as last stored: judging is the costly part, and
    # other uploads (other persons, other server processes) write meanwhile. Under the lock the state is
    # read again; only if another upload of this person got in between is the batch judged again.
    await let_writers_finish()  # judging takes milliseconds: not while this process's writers hold the lock
    judged_from = await _stored_state(measure.id)
    person_state, events, flags = _judge(judged_from, batch, days, fences_of)
    # What goes into the database is made ready before the write lock too: the lock is the one thing all
    # server processes wait for, and sqlite3's adapters would otherwise run for each of 100 rows under it.
    state, rows = _state_text(person_state), _fix_rows(measure.id, fixes, flags)
    # The hottest write path of the platform: hand-written statements (see backend.db.sql).
    async with write_tx():
        # One upload of a person at a time (PostgreSQL; SQLite writes one transaction at a time anyway).
        await sql.fetch_one_for_update("SELECT id FROM measures WHERE id = $1", measure.id)
        earlier = await sql.fetch_one(
            "SELECT result, fixes_hash FROM location_batches WHERE scoped_seq = $1", scoped
        )
        if earlier is not None:
            if earlier["fixes_hash"] and earlier["fixes_hash"] != fixes_hash:
                raise InvalidInput("device_seq", "already sent with other fixes: send these under a new one")
            return loaded(earlier["result"], {}) | {"replayed": True}
        current = await _stored_state(measure.id)
        # Fixes stored already (the same fixes re-sent under a new device_seq) are not stored again.
        if stored := await stored_keys(measure.id, fixes):
            new = np.array([i for i, f in enumerate(fixes) if _key(f) not in stored], dtype=np.int64)
            fixes, batch, days = [fixes[i] for i in new.tolist()], batch.take(new), days[new]
        if not fixes:
            events, flags, rows = [], flags[:0], []
        elif current != judged_from or len(fixes) < sent:
            person_state, events, flags = _judge(current, batch, days, fences_of)
            state, rows = _state_text(person_state), _fix_rows(measure.id, fixes, flags)
        if fixes:
            await sql.execute(
                "INSERT INTO fence_states (measure, state, updated_at) VALUES ($1, $2, $3) ON CONFLICT "
                "(measure) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                measure.id,
                state,
                now,
            )
            await bulk_insert(LocationFix, FIX_COLUMNS, rows)
        recorded = [await record_event(measure, event) for event in events]
        await note_activity(measure, now)
        result = {
            "accepted": int((flags == 0).sum()),
            "flagged": int((flags != 0).sum()),
            "events": [e for e in recorded if e],
            "duplicates": received - len(fixes),  # fixes stored before, not stored again
        }
        await sql.execute(
            "INSERT INTO location_batches (id, measure, scoped_seq, received_at, fixes, fixes_hash, result) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            uuid7(),
            measure.id,
            scoped,
            now,
            len(fixes),
            fixes_hash,
            json.dumps(result),
        )
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


def _fix_rows(measure_id: object, fixes: list[dict], flags: np.ndarray) -> list[tuple]:
    """The location_fixes rows. On SQLite the measure id and the times go in as the text sqlite3's adapters
    (piccolo's, for times: UTC, then str()) would make of them, so those run here and not row by row
    under the write lock."""
    owner, when = (str(measure_id), _sqlite_time) if is_sqlite() else (measure_id, _as_given)
    return [
        (owner, when(f["t"]), f["lat"], f["lon"], f["accuracy_m"], bool(f.get("mock", False)), flag)
        for f, flag in zip(fixes, flags.tolist(), strict=True)
    ]


def _as_given(t: datetime) -> datetime:
    return t


def _sqlite_time(t: datetime) -> str:
    return str(t.astimezone(UTC)) if t.tzinfo is not None else str(t)


async def _stored_state(measure_id: object) -> str | None:
    row = await sql.fetch_one("SELECT state FROM fence_states WHERE measure = $1", measure_id)
    return row["state"] if row else None


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
        ledger_entry = (
            await ledger.apply(
                measure,
                "fence_breach",
                SYSTEM,
                f"{kind.replace('_', ' ')} ({severity or 'medium'})",
                rule_id=f"fence_breach_{severity or 'medium'}",
                evidence=("fence_event", event_id),
            )
        ).id
    elif kind == "fix_flagged":
        # Spoofing signs are never silently accepted, nor scored: an officer looks.
        await handling.open_task(
            measure, "review", f"Location flagged: {reason}", ref_type="fence_event", ref_id=event_id
        )
    await sql.execute(
        "INSERT INTO fence_events (id, measure, kind, at, zone_id, severity, reason, fixes, ledger_entry) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        event_id,
        measure.id,
        kind,
        at,
        event.zone_id,
        severity,
        reason,
        json.dumps([f.to_json() for f in event.fixes]),
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


async def checkin_doubts(measure: Measure, sub) -> list[str]:
    """A check-in's single fix against the measure's fences (the location stream confirms breaches; one fix
    can only raise doubt). Scheduled zones such as curfews are left to the stream."""
    if sub.latitude is None or sub.longitude is None:
        return []
    day = sub.captured_at.astimezone(ZoneInfo(measure.timezone)).date()
    compiled = await _fences(measure, day)
    zones = compiled.unscheduled
    if not zones:
        return []
    n = len(zones)
    radius = max(SETTINGS.accuracy_floor_m, (sub.accuracy_m or 0.0) * SETTINGS.accuracy_scale)
    verdicts = classify(
        compiled.table,
        np.arange(n),
        np.full(n, sub.longitude),
        np.full(n, sub.latitude),
        np.full(n, radius),
        np.array([z.margin_m for z in zones]),
    )
    doubts = []
    if any(v == OUT for z, v in zip(zones, verdicts, strict=True) if z.role == geofence.Role.ALLOWED):
        doubts.append("outside_allowed_area")
    if any(v == IN for z, v in zip(zones, verdicts, strict=True) if z.role == geofence.Role.FORBIDDEN):
        doubts.append("in_forbidden_place")
    return doubts
