"""Calendar days in a measure's own time zone: deadlines, purges and travel dates count local days.

A measure's end date and a trip's dates are local calendar dates (Asia/Shanghai unless the measure says
otherwise); the UTC date is a day behind in Shanghai from 00:00 to 08:00. Queries over the whole caseload
stay one indexed range on end_date: every zone's date lies between the earliest and the latest date on
Earth right now, so the query bounds end_date by those and each row is then counted in its own zone.
"""

from __future__ import annotations

import operator
from datetime import date, datetime, timedelta
from functools import lru_cache, reduce
from zoneinfo import ZoneInfo, available_timezones

from piccolo.columns import Column
from piccolo.columns.combination import Combinable

DEFAULT_ZONE = "Asia/Shanghai"
# The furthest any IANA zone runs ahead of (Pacific/Kiritimati, +14) or behind (Etc/GMT+12) UTC.
AHEAD_MOST = timedelta(hours=14)
BEHIND_MOST = timedelta(hours=12)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def today_in(zone: str | None, now: datetime) -> date:
    """The calendar date at `now` in the zone (the default zone when a measure names none)."""
    return now.astimezone(_zone(zone or DEFAULT_ZONE)).date()


def latest_today(now: datetime) -> date:
    """No zone's date is later than this: an upper bound for "today" in an indexed query."""
    return (now + AHEAD_MOST).date()


def earliest_today(now: datetime) -> date:
    """No zone's date is earlier than this."""
    return (now - BEHIND_MOST).date()


def days_left(end_date: date, zone: str | None, now: datetime) -> int:
    """Whole local days until the end date: 0 on the last day, negative once it has passed."""
    return (end_date - today_in(zone, now)).days


@lru_cache(maxsize=4)
def _known_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def ends_within(end_date: Column, zone: Column, days: int, now: datetime) -> Combinable:
    """A set-based `end_date <= today-in-zone + days` for paginated lists: every zone's date is one of at
    most three dates right now, so the zones are grouped by their date and each group bounds end_date."""
    by_date: dict[date, list[str]] = {}
    for name in _known_zones():
        by_date.setdefault(today_in(name, now), []).append(name)
    clauses = [zone.is_in(names) & (end_date <= day + timedelta(days=days)) for day, names in by_date.items()]
    return reduce(operator.or_, clauses)
