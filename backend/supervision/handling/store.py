"""Every SQL statement of handling: tasks, alerts, the agency's handling plan, the officers to text.

Code changes and location events open tasks and raise alerts inside a check-in's or an upload's write lock,
so these are written by hand (piccolo builds each query object in Python at 100-300 us; see backend.db.sql).
The live-alerts socket has its own (handling/live/store.py)."""

from __future__ import annotations

from datetime import datetime

from backend.accounts.roles import STAFF_ROLES
from backend.db import sql

TASK_COLUMNS = [
    "id",
    "measure",
    "agency",
    "kind",
    "status",
    "urgent",
    "summary",
    "ref_type",
    "ref_id",
    "created_at",
    "closed_at",
    "closed_by",
    "resolution",
]
_OPEN_TASK = (
    "INSERT INTO tasks (id, measure, agency, kind, status, urgent, summary, ref_type, ref_id, created_at, "
    "closed_at, closed_by, resolution) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
)  # in TASK_COLUMNS order
_OPEN_TASK_OF_KIND = "SELECT id FROM tasks WHERE measure = $1 AND kind = $2 AND status = 'open'"
_DISPLAY_NAME = "SELECT display_name FROM users WHERE id = $1"
_INSERT_ALERT = (
    "INSERT INTO alerts (id, measure, agency, level, message, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
)
_ALERTS_SINCE = (
    "SELECT id, measure, agency, level, message, created_at FROM alerts WHERE created_at > $1 "
    "ORDER BY created_at"
)
_HANDLING_PLAN = "SELECT handling_plan FROM agency_policies WHERE agency = $1"
_PHONED_STAFF = (
    "SELECT id FROM users WHERE agency = $1 AND phone IS NOT NULL AND role IN ("  # noqa: S608 - constants
    + ", ".join(f"'{role.value}'" for role in sorted(STAFF_ROLES))
    + ")"
)


async def insert_task(values: dict) -> None:
    """`values` holds every column of TASK_COLUMNS."""
    await sql.execute(_OPEN_TASK, *(values[c] for c in TASK_COLUMNS))


async def open_task_of_kind(measure_id: object, kind: str) -> dict | None:
    return await sql.fetch_one(_OPEN_TASK_OF_KIND, measure_id, kind)


async def display_name(user_id: object) -> str | None:
    row = await sql.fetch_one(_DISPLAY_NAME, user_id)
    return row["display_name"] if row else None


async def insert_alert(
    alert_id: object, measure_id: object, agency_id: object, level: str, message: str, at: datetime
) -> None:
    await sql.execute(_INSERT_ALERT, alert_id, measure_id, agency_id, level, message, at)


async def alerts_since(since: datetime) -> list[dict]:
    return await sql.fetch(_ALERTS_SINCE, since)


async def handling_plan_row(agency_id: object) -> dict | None:
    return await sql.fetch_one(_HANDLING_PLAN, agency_id)


async def phoned_staff(agency_id: object) -> list[dict]:
    """The agency's officers with a phone number: they get a red alert by SMS."""
    return await sql.fetch(_PHONED_STAFF, agency_id)
