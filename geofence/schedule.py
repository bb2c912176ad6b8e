"""Time-of-day windows in the person's local time zone (e.g. a curfew 22:00-06:00), evaluated vectorised."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from geofence.errors import ZoneError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = 0b1111111
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
# 1970-01-01 was a Thursday (Monday = 0).
_EPOCH_WEEKDAY = 3
# Offsets are sampled this often and transitions located to the second in between. No real zone has two
# transitions that cancel within six hours.
_TZ_STEP_S = 6 * 3600


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) in seconds of the local day; end < start wraps past midnight. `days` are the days a
    window starts on (bit 0 = Monday), so 02:00 Saturday belongs to Friday's 22:00-06:00 window."""

    start_s: int
    end_s: int
    days: int = ALL_DAYS


@dataclass(frozen=True, slots=True)
class Schedule:
    windows: tuple[Window, ...]

    @staticmethod
    def from_json(obj: Any, path: str = "schedule") -> Schedule:
        if not isinstance(obj, dict) or not isinstance(obj.get("windows"), list) or not obj["windows"]:
            raise ZoneError(path, 'expected {"windows": [{"start": "HH:MM", "end": "HH:MM"}, ...]}')
        return Schedule(tuple(_parse_window(w, f"{path}.windows[{i}]") for i, w in enumerate(obj["windows"])))

    def to_json(self) -> dict[str, Any]:
        out = []
        for w in self.windows:
            item: dict[str, Any] = {"start": _fmt(w.start_s), "end": _fmt(w.end_s)}
            if w.days != ALL_DAYS:
                item["days"] = [d for i, d in enumerate(DAY_NAMES) if w.days >> i & 1]
            out.append(item)
        return {"windows": out}


def _parse_time(value: Any, path: str, allow_24: bool) -> int:
    m = _TIME.match(value) if isinstance(value, str) else None
    if not m:
        raise ZoneError(path, f"expected a local time as HH:MM, got {value!r}")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if mi > 59 or s > 59 or h > 24 or (h == 24 and (mi or s or not allow_24)):
        raise ZoneError(path, f"{value!r} is not a time of day")
    return h * 3600 + mi * 60 + s


def _parse_window(obj: Any, path: str) -> Window:
    if not isinstance(obj, dict):
        raise ZoneError(path, 'expected {"start": "HH:MM", "end": "HH:MM", "days": [...]}')
    start = _parse_time(obj.get("start"), f"{path}.start", allow_24=False)
    end = _parse_time(obj.get("end"), f"{path}.end", allow_24=True)
    if end % 86400 == start:
        raise ZoneError(path, "start equals end: an empty or all-day window (omit the schedule for always)")
    days = ALL_DAYS
    if "days" in obj:
        names = obj["days"]
        if not isinstance(names, list) or not names or any(d not in DAY_NAMES for d in names):
            raise ZoneError(f"{path}.days", f"expected a non-empty list of {', '.join(DAY_NAMES)}")
        days = sum(1 << DAY_NAMES.index(d) for d in set(names))
    return Window(start, end, days)


def _fmt(sec: int) -> str:
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def check_tz(name: str, path: str = "tz") -> str:
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ZoneError(path, f"unknown time zone {name!r}") from exc
    return name


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# datetime covers years 1-9999; offsets of times beyond are those of its ends (a zone's far past and future).
_FIRST_S, _LAST_S = -62135596800 + 2 * 86400, 253402300799 - 2 * 86400


def _offset(tz: ZoneInfo, t: int) -> int:
    when = datetime.fromtimestamp(min(max(t, _FIRST_S), _LAST_S), UTC)
    off = when.astimezone(tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _samples(t: np.ndarray) -> tuple[list[int], set[int]]:
    """Where to read the zone's offset: every _TZ_STEP_S within each run of fixes less than a step apart,
    and each run's ends. The work grows with the number of fixes, never with the time they span (fixes
    from year 1 and year 9999 are two runs, not 14 million samples). Also the first sample of each run."""
    u = np.unique(np.floor(np.nan_to_num(t, nan=0.0, posinf=_LAST_S, neginf=_FIRST_S))).astype(np.int64)
    breaks = np.nonzero(np.diff(u) > _TZ_STEP_S)[0]
    samples: list[int] = []
    firsts: set[int] = set()
    for lo, hi in zip(np.r_[0, breaks + 1].tolist(), np.r_[breaks, len(u) - 1].tolist(), strict=True):
        a, b = int(u[lo]), int(u[hi])
        firsts.add(a)
        samples += range(a, b, _TZ_STEP_S)
        samples.append(b)
    return samples, firsts


def local_seconds(tz_name: str, t: np.ndarray) -> np.ndarray:
    """Local wall-clock seconds since 1970-01-01 local for UTC epoch seconds `t`, DST-aware, vectorised."""
    if len(t) == 0:
        return t.astype(np.float64)
    tz = _zone(tz_name)
    samples, firsts = _samples(t)
    offs = [_offset(tz, s) for s in samples]
    starts, values = [samples[0]], [offs[0]]
    for a, b, oa, ob in zip(samples, samples[1:], offs, offs[1:], strict=False):
        if oa != ob:
            if b not in firsts:  # bisect to the first second of the new offset
                while b - a > 1:
                    mid = (a + b) // 2
                    a, b = (mid, b) if _offset(tz, mid) == oa else (a, mid)
            # else no fix lies between two runs: the new offset starts with the next run
            starts.append(b)
            values.append(ob)
    if len(values) == 1:  # no transition within the batch (the usual case)
        return t + float(values[0])
    idx = np.searchsorted(np.asarray(starts, dtype=np.float64), t, side="right") - 1
    return t + np.asarray(values, dtype=np.float64)[np.clip(idx, 0, None)]


class ScheduleTable:
    """Many schedules as padded arrays, so windows of thousands of persons are judged in one pass."""

    def __init__(self, schedules: list[Schedule]) -> None:
        width = max((len(s.windows) for s in schedules), default=0)
        self.start = np.zeros((len(schedules), width), dtype=np.int64)
        self.end = np.zeros((len(schedules), width), dtype=np.int64)
        self.days = np.zeros((len(schedules), width), dtype=np.int64)  # 0 = padding, never active
        for i, s in enumerate(schedules):
            for j, w in enumerate(s.windows):
                self.start[i, j], self.end[i, j], self.days[i, j] = w.start_s, w.end_s, w.days

    @property
    def every_day(self) -> bool:
        return bool(np.all((self.days == 0) | (self.days == ALL_DAYS)))

    def active(self, sched: np.ndarray, sec: np.ndarray, bit: np.ndarray | None) -> np.ndarray:
        """Whether schedule `sched` is active at local second-of-day `sec` on the day with weekday `bit`
        (`bit` may be None when every window applies every day)."""
        single = self.start.shape[0] == 1  # one shared schedule (a common curfew): scalars, no gathers
        every_day = self.every_day
        assert every_day or bit is not None
        prev_bit = (
            None if every_day else np.where(bit == 1, 64, bit >> 1)
        )  # yesterday, for windows past midnight
        out = np.zeros(len(sched), dtype=bool)
        for j in range(self.start.shape[1]):
            pick = (lambda a: a[0, j]) if single else (lambda a: a[sched, j])  # noqa: B023
            start, end, days = pick(self.start), pick(self.end), pick(self.days)
            wraps = end <= start
            if every_day:
                hit = np.where(wraps, (sec >= start) | (sec < end), (sec >= start) & (sec < end)) & (
                    days != 0
                )
            else:
                assert prev_bit is not None and bit is not None
                same_day = (sec >= start) & (days & bit != 0)
                plain = same_day & (sec < end)
                wrapped = same_day | ((sec < end) & (days & prev_bit != 0))
                hit = np.where(wraps, wrapped, plain)
            out |= hit
        return out


def day_parts(local_t: np.ndarray, weekday: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Second of the local day, and the weekday as a bit (Monday = 1) if asked, for local epoch seconds."""
    day = np.floor_divide(local_t, 86400.0)
    sec = local_t - day * 86400.0
    if not weekday:
        return sec, None
    return sec, np.left_shift(1, (day.astype(np.int64) + _EPOCH_WEEKDAY) % 7)
