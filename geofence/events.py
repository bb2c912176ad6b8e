"""What the engine reports: state changes of a person, each with the fixes that prove it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntFlag, StrEnum
from typing import Any, NamedTuple


class EventKind(StrEnum):
    LEFT_ALLOWED_AREA = "left_allowed_area"
    ENTERED_FORBIDDEN_PLACE = "entered_forbidden_place"
    CURFEW_BROKEN = "curfew_broken"  # outside an allowed zone while its schedule is active
    RETURNED = "returned"  # back inside the allowed area / out of the forbidden place, confirmed
    WINDOW_CLOSED = "window_closed"  # a breach episode ended because the zone's schedule window ended
    SIGNAL_LOST = "signal_lost"
    SIGNAL_RESTORED = "signal_restored"
    FIX_FLAGGED = "fix_flagged"  # a fix is implausible or spoofed; set aside for human review


class Flag(IntFlag):
    """Why a fix is set aside. A flagged fix is never used to judge zones or signal."""

    MOCK_LOCATION = 1  # the OS reported a mock (simulated) location
    FUTURE = 2  # stamped later than it was received (beyond clock tolerance)
    STALE = 4  # older than the allowed age at receipt
    OUT_OF_ORDER = 8  # not after the person's latest fix already judged (a replay or duplicate)
    BAD_ACCURACY = 16  # accuracy exactly 0, negative, not a number, or impossibly large
    BAD_COORDINATES = 32  # latitude/longitude out of range or not a number
    TELEPORT = 64  # implied speed from the previous fix above the limit
    FROZEN = 128  # a long run of bit-identical coordinates


_FLAG_NAMES = tuple((int(f), str(f.name).lower()) for f in Flag)


def flag_names(bits: int) -> list[str]:
    """Reasons, in Flag order, for a fix's flag bits."""
    return [name for bit, name in _FLAG_NAMES if bits & bit]


class Fix(NamedTuple):
    """One position fix as evidence (a NamedTuple: immutable and cheap to build in bulk)."""

    person_id: int
    t: float  # UTC epoch seconds when the position was measured
    lat: float
    lon: float
    accuracy_m: float
    mock: bool = False
    fix_id: int = -1  # the caller's id for the fix (e.g. its database row), -1 if none

    def to_json(self) -> dict[str, Any]:
        return {
            "fix_id": self.fix_id,
            "person_id": self.person_id,
            "t": self.t,
            "lat": _num(self.lat),
            "lon": _num(self.lon),
            "accuracy_m": _num(self.accuracy_m),
            "mock": self.mock,
        }

    @staticmethod
    def from_json(d: dict[str, Any]) -> Fix:
        return Fix(
            int(d["person_id"]),
            float(d["t"]),
            _float(d["lat"]),
            _float(d["lon"]),
            _float(d["accuracy_m"]),
            bool(d.get("mock", False)),
            int(d.get("fix_id", -1)),
        )


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None  # JSON has no NaN


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    person_id: int
    at: float  # when the state changed (confirmation time for breaches and returns)
    zone_id: str | None = None
    severity: str | None = None
    since: float | None = None  # when the confirmed run began (the first decisive fix)
    reason: str | None = None
    fixes: tuple[Fix, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "person_id": self.person_id,
            "at": self.at,
            "zone_id": self.zone_id,
            "severity": self.severity,
            "since": self.since,
            "reason": self.reason,
            "fixes": [f.to_json() for f in self.fixes],
        }

    def sort_key(self) -> tuple[float, int, str, str, str]:
        return (self.at, self.person_id, self.kind, self.zone_id or "", self.reason or "")
