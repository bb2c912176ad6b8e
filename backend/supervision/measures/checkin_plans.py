"""Check-in plans and the windows they produce, in the person's own time zone.

A plan is {"kind": "daily"|"weekly", "times": ["09:00", ...], "weekdays": [0..6] (weekly; Monday = 0),
"window_minutes": 60}. Yellow and red codes densify the rhythm: each planned time gets a second window
six hours later.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.core.errors import InvalidInput

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DENSER_OFFSET = timedelta(hours=6)


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", "must be an IANA time zone such as Asia/Shanghai") from None
    return name


def validate_plan(plan: dict) -> dict:
    kind = plan.get("kind")
    if kind not in ("daily", "weekly"):
        raise InvalidInput("checkin_plan.kind", "must be daily or weekly")
    times = plan.get("times")
    if not isinstance(times, list) or not 1 <= len(times) <= 6 or not all(isinstance(t, str) for t in times):
        raise InvalidInput("checkin_plan.times", "must list 1-6 times of day as HH:MM")
    if bad := [t for t in times if not _TIME.match(t)]:
        raise InvalidInput("checkin_plan.times", f"not a time of day: {bad[0]!r}")
    minutes = plan.get("window_minutes", 60)
    if not isinstance(minutes, int) or not 5 <= minutes <= 720:
        raise InvalidInput("checkin_plan.window_minutes", "must be 5-720")
    weekdays = plan.get("weekdays", list(range(7)))
    if kind == "weekly" and (
        not isinstance(weekdays, list)
        or not weekdays
        or not all(isinstance(d, int) and 0 <= d <= 6 for d in weekdays)
    ):
        raise InvalidInput("checkin_plan.weekdays", "must list weekdays 0 (Monday) to 6 (Sunday)")
    return {
        "kind": kind,
        "times": sorted(set(times)),
        "weekdays": sorted(set(weekdays)),
        "window_minutes": minutes,
    }


def windows_for_day(plan: dict, day: date, tz: str, extra: int = 0) -> list[tuple[datetime, datetime]]:
    """(opens_at, closes_at) in UTC for one local calendar day; `extra` denser windows per planned one
    (the agency's handling plan for the person's code) follow it, spread over the next DENSER_OFFSET."""
    if plan.get("kind") == "weekly" and day.weekday() not in plan.get("weekdays", []):
        return []
    zone = ZoneInfo(tz)
    length = timedelta(minutes=plan.get("window_minutes", 60))
    result = []
    for text in plan.get("times", []):
        hour, minute = map(int, text.split(":"))
        opens = datetime.combine(day, time(hour, minute), tzinfo=zone)
        starts = [opens] + [opens + DENSER_OFFSET * k / extra for k in range(1, extra + 1)]
        result += [(s.astimezone(ZoneInfo("UTC")), (s + length).astimezone(ZoneInfo("UTC"))) for s in starts]
    return sorted(result)
