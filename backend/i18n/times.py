"""Times as the person reads them: in the measure's zone, with the zone named ("18:30 (Asia/Shanghai)")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.core.clock import as_utc

DEFAULT_ZONE = "Asia/Shanghai"  # as backend.supervision.deadlines.local_days: a measure that names no zone


def _local(at: datetime, zone: str | None) -> tuple[datetime, str]:
    name = zone or DEFAULT_ZONE
    return as_utc(at).astimezone(ZoneInfo(name)), name


def local_time(at: datetime, zone: str | None) -> str:
    local, name = _local(at, zone)
    return f"{local:%H:%M} ({name})"


def local_datetime(at: datetime, zone: str | None) -> str:
    local, name = _local(at, zone)
    return f"{local:%Y-%m-%d %H:%M} ({name})"
