"""Fix records for events' proof: built in bulk from a batch's rows, or read back from the ring of each
person's latest accepted fixes carried in the state. Pure: no I/O."""

from __future__ import annotations

import numpy as np

from geofence.events import Fix
from geofence.fixes import FixBatch


class FixCache:
    """Fix records for batch rows, built in bulk (tolist) rather than one numpy scalar at a time."""

    def __init__(self, f: FixBatch) -> None:
        self.f = f
        self.cache: dict[int, Fix] = {}

    def prefetch(self, rows: np.ndarray) -> None:
        rows = np.unique(rows)
        f = self.f
        cols = [
            f.person[rows],
            f.t[rows],
            f.lat[rows],
            f.lon[rows],
            f.accuracy[rows],
            f.mock[rows],
            f.fix_id[rows],
        ]
        for i, *vals in zip(rows.tolist(), *(c.tolist() for c in cols), strict=True):
            self.cache[i] = Fix(*vals)

    def __call__(self, i: int) -> Fix:
        if i not in self.cache:
            self.prefetch(np.array([i]))
        return self.cache[i]


def ring_last(c: dict[str, np.ndarray], row: int, pid: int) -> tuple[Fix, ...]:
    return ring_fixes(c, row, pid, 1)


def ring_fixes(c: dict[str, np.ndarray], row: int, pid: int, count: int) -> tuple[Fix, ...]:
    """The latest `count` accepted fixes remembered for a person, oldest first."""
    width = c["r_t"].shape[1]
    out = []
    for j in range(max(0, width - count), width):
        if not np.isnan(c["r_t"][row, j]):
            out.append(
                Fix(
                    pid,
                    float(c["r_t"][row, j]),
                    float(c["r_lat"][row, j]),
                    float(c["r_lon"][row, j]),
                    float(c["r_acc"][row, j]),
                    bool(c["r_mock"][row, j]),
                    int(c["r_id"][row, j]),
                )
            )
    return tuple(out)


def fix_columns(f: FixBatch) -> tuple[tuple[str, np.ndarray], ...]:
    """A fix's fields as stored in rule and ring state (f_<name>, r_<name>)."""
    columns = (f.t, f.lat, f.lon, f.accuracy, f.mock, f.fix_id)
    return tuple(zip(("t", "lat", "lon", "acc", "mock", "id"), columns, strict=True))


def unique_fixes(fixes: tuple[Fix, ...]) -> tuple[Fix, ...]:
    """Drop repeated fixes (a run's first fix may also be among its latest)."""
    out, seen = [], set()
    for fix in fixes:
        if (fix.t, fix.fix_id) not in seen:
            seen.add((fix.t, fix.fix_id))
            out.append(fix)
    return tuple(out)
