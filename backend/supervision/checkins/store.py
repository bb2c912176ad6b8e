"""Every SQL statement of check-ins: finding and claiming a window, recording a check-in, the sweep's claim.

The check-in is the busiest write of the platform, so its statements are written by hand (piccolo builds
each query object in Python at 100-300 us; see backend.db.sql)."""

from __future__ import annotations

from datetime import datetime

from backend.db import sql

_WINDOW = "SELECT id, opens_at, closes_at, grace_until, status FROM checkin_windows"
# Windows may overlap (a random check on top of a scheduled one): an open one first (index on measure,
# status, opens_at); only then the closed window the capture fell in, to say why it is refused.
_WINDOW_BY_ID = f"{_WINDOW} WHERE measure = $1 AND id = $2"  # noqa: S608 - constants
_OPEN_WINDOW_AT = (
    f"{_WINDOW} WHERE measure = $1 AND status = 'open' AND opens_at <= $3 AND closes_at >= $2 "  # noqa: S608
    "ORDER BY opens_at LIMIT 1"
)
_ANY_WINDOW_AT = (
    f"{_WINDOW} WHERE measure = $1 AND opens_at <= $3 AND closes_at >= $2 ORDER BY opens_at LIMIT 1"  # noqa: S608
)
_CLAIM_WINDOW = "UPDATE checkin_windows SET status = 'done' WHERE id = $1 AND status = 'open' RETURNING id"
_CLAIM_MISSED = (
    "UPDATE checkin_windows SET status = 'missed' WHERE status = 'open' AND grace_until < $1 "
    "RETURNING id, measure"
)
_INSERT_CHECKIN = (
    'INSERT INTO checkins (id, measure, "window", received_at, captured_at, latitude, longitude, accuracy_m, '
    "fix_time, mock_location, offline, device, outcome, reasons, face_similarity, face_liveness, receipt) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
)


async def window(measure_id: object, window_id: object) -> dict | None:
    return await sql.fetch_one(_WINDOW_BY_ID, measure_id, window_id)


async def window_at(measure_id: object, captured: datetime, latest_open: datetime) -> dict | None:
    """The window a capture answers: an open one it falls in, else any it falls in."""
    return await sql.fetch_one(_OPEN_WINDOW_AT, measure_id, captured, latest_open) or await sql.fetch_one(
        _ANY_WINDOW_AT, measure_id, captured, latest_open
    )


async def claim_window(window_id: object) -> bool:
    """Under the write lock: of two submissions racing for one window, one answers it."""
    return await sql.fetch_one(_CLAIM_WINDOW, window_id) is not None


async def insert_checkin(values: tuple) -> None:
    """The row in _INSERT_CHECKIN's column order (reasons as JSON text)."""
    await sql.execute(_INSERT_CHECKIN, *values)


async def claim_missed_windows(now: datetime) -> list[dict]:
    """Every open window past its grace period, marked missed in one statement: (id, measure) rows."""
    return await sql.fetch(_CLAIM_MISSED, now)
