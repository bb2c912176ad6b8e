"""A batch of fixes as columns (one row per fix), the engine's input."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from geofence.errors import FixBatchError


@dataclass(frozen=True, eq=False, slots=True)
class FixBatch:
    person: np.ndarray  # int64 person ids
    t: np.ndarray  # float64 UTC epoch seconds of measurement
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray
    accuracy: np.ndarray  # float64 metres, the reported horizontal accuracy radius
    mock: np.ndarray  # bool, the OS mock-location flag
    received_at: np.ndarray  # float64 UTC epoch seconds when the server received the fix
    fix_id: np.ndarray  # int64, the caller's id, -1 if none

    @staticmethod
    def from_arrays(
        person: Any,
        t: Any,
        lat: Any,
        lon: Any,
        accuracy: Any,
        *,
        received_at: Any,
        mock: Any = False,
        fix_id: Any = -1,
    ) -> FixBatch:
        """Columns (scalars broadcast). A malformed batch raises FixBatchError; odd values are flagged."""
        cols = {"person": person, "t": t, "lat": lat, "lon": lon, "accuracy": accuracy}
        n = max((np.size(v) for v in cols.values()), default=0)
        try:
            out = FixBatch(
                person=_col(person, n, np.int64, "person"),
                t=_col(t, n, np.float64, "t"),
                lat=_col(lat, n, np.float64, "lat"),
                lon=_col(lon, n, np.float64, "lon"),
                accuracy=_col(accuracy, n, np.float64, "accuracy"),
                mock=_col(mock, n, np.bool_, "mock"),
                received_at=_col(received_at, n, np.float64, "received_at"),
                fix_id=_col(fix_id, n, np.int64, "fix_id"),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, FixBatchError):
                raise
            raise FixBatchError(str(exc)) from exc
        if not (np.all(np.isfinite(out.t)) and np.all(np.isfinite(out.received_at))):
            raise FixBatchError("every fix needs a finite timestamp t and received_at")
        return out

    @staticmethod
    def from_records(records: Iterable[Mapping[str, Any]], *, received_at: float | None = None) -> FixBatch:
        """Dicts with person_id, t, lat, lon, accuracy_m and optionally mock, fix_id, received_at."""
        rows = list(records)
        try:
            return FixBatch.from_arrays(
                [r["person_id"] for r in rows],
                [r["t"] for r in rows],
                [_nan(r.get("lat")) for r in rows],
                [_nan(r.get("lon")) for r in rows],
                [_nan(r.get("accuracy_m")) for r in rows],
                mock=[bool(r.get("mock", False)) for r in rows],
                fix_id=[r.get("fix_id", -1) for r in rows],
                received_at=[r.get("received_at", received_at) for r in rows],
            )
        except KeyError as exc:
            raise FixBatchError(f"a fix lacks {exc.args[0]!r}") from exc

    def __len__(self) -> int:
        return len(self.t)

    def take(self, idx: np.ndarray | slice) -> FixBatch:
        return FixBatch(*(getattr(self, f)[idx] for f in self.__slots__))  # type: ignore[attr-defined]


def _nan(v: Any) -> Any:
    return np.nan if v is None else v


def _col(v: Any, n: int, dtype: Any, name: str) -> np.ndarray:
    if v is None:
        raise FixBatchError(f"{name} is required")
    a = np.asarray(v)
    if a.ndim == 0:
        a = np.full(n, a)
    if a.shape != (n,):
        raise FixBatchError(f"{name} has {a.size} values for {n} fixes")
    return np.ascontiguousarray(a, dtype=dtype)
