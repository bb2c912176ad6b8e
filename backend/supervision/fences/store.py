"""Every SQL statement of fences and locations: zones, approved trips' areas, the stored fence state, fixes,
batches, events, and the signal-loss episodes; with the SQLite adapter's text for times and ids.

The upload is the hottest write path of the platform, so these are written by hand (piccolo builds each
query object in Python at 100-300 us; see backend.db.sql)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache

from backend.db import sql
from backend.db.bulk import bulk_insert
from backend.db.engine import is_sqlite
from backend.supervision.fences.tables import LocationFix

FIX_COLUMNS = ["measure", "t", "latitude", "longitude", "accuracy_m", "mock", "flags"]
_ACTIVE_ZONES = "SELECT id, shape_key FROM fence_zones WHERE measure = $1 AND active = $2 ORDER BY created_at"
_TRIP_AREAS = (
    "SELECT destination_area FROM travel_requests WHERE measure = $1 AND status = 'approved' "
    "AND depart_on <= $2 AND return_on >= $2"
)
_EARLIER_BATCH = "SELECT result, fixes_hash FROM location_batches WHERE scoped_seq = $1"
_STATE = "SELECT state FROM fence_states WHERE measure = $1"
_STATE_QUIET_SINCE = "SELECT state FROM fence_states WHERE measure = $1 AND updated_at < $2"
_SET_STATE = (
    "INSERT INTO fence_states (measure, state, updated_at) VALUES ($1, $2, $3) ON CONFLICT "
    "(measure) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"
)
_INSERT_BATCH = (
    "INSERT INTO location_batches (id, measure, scoped_seq, received_at, fixes, fixes_hash, result) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
_INSERT_EVENT = (
    "INSERT INTO fence_events (id, measure, kind, at, zone_id, severity, reason, fixes, ledger_entry) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
_FIXES_BETWEEN = (
    "SELECT t, latitude, longitude, accuracy_m FROM location_fixes WHERE measure = $1 AND t >= $2 AND t <= $3"
)
# A signal-loss episode's event: the measure's signal_lost event since its last fix; and its task.
_EPISODE = (
    "SELECT id FROM fence_events WHERE measure = $1 AND kind = 'signal_lost' AND at >= $2 "
    "ORDER BY at DESC LIMIT 1"
)
_EPISODE_TASK = (
    "SELECT id FROM tasks WHERE measure = $1 AND kind = 'signal_loss' AND ref_type = 'fence_event' "
    "AND ref_id = $2"
)


@lru_cache(maxsize=64)
def _features_sql(n: int) -> str:
    marks = ", ".join(f"${i}" for i in range(1, n + 1))
    return f"SELECT id, feature FROM fence_zones WHERE id IN ({marks})"  # noqa: S608 - placeholders only


# SQLite adapter details -----------------------------------------------------------------------------


def sqlite_time(t: datetime) -> str:
    """A time as piccolo's SQLite adapter stores it (UTC, then str()), so text comparisons order it right."""
    return str(t.astimezone(UTC)) if t.tzinfo is not None else str(t)


def _db_time(t: datetime) -> datetime | str:
    return sqlite_time(t) if is_sqlite() else t


def fix_rows(measure_id: object, fixes: list[dict], flags: list[int]) -> list[tuple]:
    """The location_fixes rows (FIX_COLUMNS). On SQLite the measure id and the times go in as the text
    sqlite3's adapters (piccolo's, for times: UTC, then str()) would make of them, so those run here, before
    the write lock, and not row by row under it."""
    sqlite = is_sqlite()
    owner = str(measure_id) if sqlite else measure_id
    return [
        (
            owner,
            sqlite_time(f["t"]) if sqlite else f["t"],
            f["lat"],
            f["lon"],
            f["accuracy_m"],
            bool(f.get("mock", False)),
            flag,
        )
        for f, flag in zip(fixes, flags, strict=True)
    ]


# Zones and trips ------------------------------------------------------------------------------------


async def active_zone_keys(measure_id: object) -> list[dict]:
    """(id, shape_key) of the measure's active zones, oldest first."""
    return await sql.fetch(_ACTIVE_ZONES, measure_id, True)


async def zone_features(zone_ids: list) -> list[dict]:
    return await sql.fetch(_features_sql(len(zone_ids)), *zone_ids)


async def approved_trip_areas(measure_id: object, day) -> list[dict]:
    """Raw destination_area values of the trips approved for that day."""
    return await sql.fetch(_TRIP_AREAS, measure_id, day)


# Uploads ---------------------------------------------------------------------------------------------


async def earlier_batch(scoped_seq: str) -> dict | None:
    return await sql.fetch_one(_EARLIER_BATCH, scoped_seq)


async def fence_state(measure_id: object) -> str | None:
    row = await sql.fetch_one(_STATE, measure_id)
    return row["state"] if row else None


async def fence_state_quiet_since(measure_id: object, since: datetime) -> str | None:
    """The stored state, if no upload has written it since `since`."""
    row = await sql.fetch_one(_STATE_QUIET_SINCE, measure_id, since)
    return row["state"] if row else None


async def set_fence_state(measure_id: object, state: str, now: datetime) -> None:
    await sql.execute(_SET_STATE, measure_id, state, now)


async def insert_fixes(rows: list[tuple]) -> None:
    await bulk_insert(LocationFix, FIX_COLUMNS, rows)


async def insert_batch(
    batch_id, measure_id, scoped_seq: str, now: datetime, fixes: int, fixes_hash: str, result: dict
) -> None:
    await sql.execute(
        _INSERT_BATCH, batch_id, measure_id, scoped_seq, now, fixes, fixes_hash, json.dumps(result)
    )


async def insert_event(
    event_id, measure_id, kind: str, at: datetime, zone_id, severity, reason: str, fixes: list, entry
) -> None:
    await sql.execute(
        _INSERT_EVENT, event_id, measure_id, kind, at, zone_id, severity, reason, json.dumps(fixes), entry
    )


async def fixes_between(measure_id: object, first: datetime, last: datetime) -> list[dict]:
    """The measure's stored fixes in [first, last] (the upload's own time format on SQLite)."""
    return await sql.fetch(_FIXES_BETWEEN, measure_id, _db_time(first), _db_time(last))


# Signal loss -----------------------------------------------------------------------------------------


async def signal_lost_episode(measure_id: object, last_fix: datetime) -> dict | None:
    return await sql.fetch_one(_EPISODE, measure_id, last_fix)


async def episode_task(measure_id: object, episode_id: str) -> dict | None:
    return await sql.fetch_one(_EPISODE_TASK, measure_id, episode_id)
