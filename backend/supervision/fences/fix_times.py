"""Which times a location upload, a check-in or a track may name, refused before any work is done.

A fix belongs to its measure: it cannot predate the measure's first day nor follow its last by more than a
day (the measure's dates are local days; a day either side absorbs zones and late uploads), and it cannot
lie in the future beyond the phone's clock skew. Judging a batch then costs per fix, not per hour spanned.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.core.errors import InvalidInput
from backend.core.ids import parse_int_id
from backend.core.pagination import decode_cursor
from backend.core.text import instant_problem
from backend.supervision.measures.tables import Measure

CLOCK_SKEW = timedelta(minutes=2)
MARGIN = timedelta(days=1)
TRACK_SPAN = timedelta(days=31)


def measure_span(measure: Measure, now: datetime) -> tuple[datetime, datetime]:
    """[earliest, latest] instants a fix or capture of this measure may carry."""
    tz = ZoneInfo(measure.timezone)
    first = datetime.combine(measure.start_date, time.min, tz) - MARGIN
    last = datetime.combine(measure.end_date, time.min, tz) + timedelta(days=1) + MARGIN
    return first, min(last, now + CLOCK_SKEW)


def check_fix_times(measure: Measure, times: list[datetime], now: datetime, field: str = "fixes") -> None:
    earliest, latest = measure_span(measure, now)
    for i, t in enumerate(times):
        if (problem := instant_problem(t)) is not None:
            raise InvalidInput(f"{field}[{i}].t", problem)
        if not earliest <= t <= latest:
            raise InvalidInput(
                f"{field}[{i}].t",
                f"must lie within the measure ({earliest.isoformat()} to {latest.isoformat()})",
            )


def check_instant(value: datetime, field: str, earliest: datetime, latest: datetime) -> None:
    if (problem := instant_problem(value)) is not None:
        raise InvalidInput(field, problem)
    if not earliest <= value <= latest:
        raise InvalidInput(field, f"must lie between {earliest.isoformat()} and {latest.isoformat()}")


def check_track_range(start: datetime, end: datetime) -> None:
    """A track covers at most 31 days, between two zoned times (query strings may omit the zone)."""
    for name, value in (("start", start), ("end", end)):
        if (problem := instant_problem(value)) is not None:
            raise InvalidInput(name, problem)
    if end <= start or end - start > TRACK_SPAN:
        raise InvalidInput("end", "must be after start, at most 31 days later")


def track_position(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) a track page ended at, from its cursor."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    t, _, fix_id = str(value).partition("|")
    try:
        at, number = datetime.fromisoformat(t), int(fix_id) if fix_id.isascii() else None
    except ValueError:
        at = number = None
    if at is None or number is None or parse_int_id(number) is None or instant_problem(at) is not None:
        raise InvalidInput("cursor", "not a cursor of this track")
    return at, number
