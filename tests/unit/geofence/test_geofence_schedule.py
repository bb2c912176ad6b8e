"""Schedules: windows in the person's local time, across midnight, weekdays and DST changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from geofence import Schedule
from geofence.schedule import ScheduleTable, day_parts, local_seconds


def epoch(tz: str, *args: int) -> float:
    return datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def active(schedule: Schedule, tz: str, times: list[float]) -> list[bool]:
    table = ScheduleTable([schedule])
    sec, bit = day_parts(local_seconds(tz, np.array(times)), weekday=True)
    return table.active(np.zeros(len(times), dtype=np.int64), sec, bit).tolist()


def test_local_seconds_follow_dst_transitions() -> None:
    tz = "America/New_York"  # 2026-03-08 02:00 EST -> 03:00 EDT
    times = np.array(
        [epoch(tz, 2026, 3, 8, 1, 59), epoch(tz, 2026, 3, 8, 3, 0), epoch(tz, 2026, 11, 1, 12, 0)]
    )
    local = local_seconds(tz, times)
    sec, _ = day_parts(local, weekday=False)
    assert (sec / 60).round().tolist() == [119, 180, 720]
    assert local_seconds("Asia/Shanghai", np.array([0.0]))[0] == 8 * 3600


def test_curfew_wraps_past_midnight() -> None:
    curfew = Schedule.from_json({"windows": [{"start": "22:00", "end": "06:00"}]})
    tz = "Asia/Shanghai"
    at = [
        epoch(tz, 2026, 1, 5, h, m)
        for h, m in [(21, 59), (22, 0), (23, 59), (0, 0), (5, 59), (6, 0), (12, 0)]
    ]
    assert active(curfew, tz, at) == [False, True, True, True, True, False, False]


def test_weekday_windows_belong_to_the_day_they_start() -> None:
    weekend_nights = Schedule.from_json(
        {"windows": [{"start": "23:00", "end": "05:00", "days": ["fri", "sat"]}]}
    )
    tz = "Asia/Shanghai"  # 2026-01-02 is a Friday
    at = [
        epoch(tz, 2026, 1, 2, 23, 30),
        epoch(tz, 2026, 1, 3, 2, 0),
        epoch(tz, 2026, 1, 4, 2, 0),
        epoch(tz, 2026, 1, 4, 23, 30),
        epoch(tz, 2026, 1, 2, 2, 0),
    ]
    assert active(weekend_nights, tz, at) == [True, True, True, False, False]


def test_several_windows_and_a_window_ending_at_midnight() -> None:
    s = Schedule.from_json(
        {"windows": [{"start": "08:00", "end": "09:30"}, {"start": "18:00", "end": "24:00"}]}
    )
    tz = "UTC"
    at = [epoch(tz, 2026, 1, 1, h, m) for h, m in [(8, 0), (9, 30), (17, 59), (23, 59), (0, 0)]]
    assert active(s, tz, at) == [True, False, False, True, False]
    assert s.to_json() == {
        "windows": [{"start": "08:00", "end": "09:30"}, {"start": "18:00", "end": "24:00"}]
    }


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {},
        {"windows": []},
        {"windows": ["22-06"]},
        {"windows": [{"start": "22:00", "end": "06:00", "days": ["someday"]}]},
    ],
)
def test_malformed_schedules_are_refused(bad: object) -> None:
    from geofence import ZoneError

    with pytest.raises(ZoneError):
        Schedule.from_json(bad)
