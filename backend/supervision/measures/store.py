"""Every SQL statement of measures: the person's active measure, its activity, its row lock.

These run on every phone request and inside the check-in's and upload's write lock, so they are written
by hand (piccolo builds each query object in Python at 100-300 us; see backend.db.sql)."""

from __future__ import annotations

from datetime import datetime

from backend.db import sql
from backend.supervision.measures.tables import Measure

_ACTIVE_OF_PERSON = (
    "SELECT * FROM measures WHERE person = $1 AND status = 'active' ORDER BY created_at DESC LIMIT 1"
)
_SET_ACTIVITY = "UPDATE measures SET last_activity_at = $1 WHERE id = $2"
_LOCK = "SELECT id FROM measures WHERE id = $1"


async def active_measure_of(person_id: object) -> Measure | None:
    row = await sql.fetch_one(_ACTIVE_OF_PERSON, person_id)
    return sql.stored(Measure, row) if row else None


async def set_activity(measure_id: object, now: datetime) -> None:
    await sql.execute(_SET_ACTIVITY, now, measure_id)


async def lock(measure_id: object) -> None:
    """The measure's row lock on PostgreSQL, serialising a look and a write about it; SQLite's writer is
    single."""
    await sql.fetch_one_for_update(_LOCK, measure_id)
