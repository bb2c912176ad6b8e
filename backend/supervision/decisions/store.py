"""Every hand-written statement of decisions: the row lock that makes a decision on a contest or a travel
request happen once, however many officers decide it at the same moment."""

from __future__ import annotations

from backend.db import sql


async def contest_status_locked(contest_id: object) -> str | None:
    """The contest's status, its row locked (PostgreSQL) until the deciding transaction ends."""
    row = await sql.fetch_one_for_update("SELECT status FROM contests WHERE id = $1", contest_id)
    return row["status"] if row else None


async def trip_status_locked(trip_id: object) -> str | None:
    """The travel request's status, its row locked (PostgreSQL) until the deciding transaction ends."""
    row = await sql.fetch_one_for_update("SELECT status FROM travel_requests WHERE id = $1", trip_id)
    return row["status"] if row else None
