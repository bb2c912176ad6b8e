"""Plausibility and spoofing checks, vectorised over a batch sorted by person then time.

Per-fix checks (mock flag, clock, accuracy, coordinates, order) come first; the sequence checks (teleport,
frozen coordinates) then run over the fixes that passed them, continuing from the person's state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geofence.earth import MEAN_RADIUS_M
from geofence.events import Fix, Flag
from geofence.fixes import FixBatch
from geofence.settings import Settings

_M_PER_DEG = MEAN_RADIUS_M * np.pi / 180


@dataclass(frozen=True, slots=True)
class Screened:
    flags: np.ndarray  # per fix (sorted order)
    teleport_from: dict[int, Fix]  # the fix a teleport was measured from, by fix index
    carry: dict[str, np.ndarray]  # updated person columns, one row per block


def screen(
    f: FixBatch, starts: np.ndarray, block: np.ndarray, p: dict[str, np.ndarray], s: Settings
) -> Screened:
    n = len(f)
    bad_coords = ~((np.abs(f.lat) <= 90) & (np.abs(f.lon) <= 180))  # NaN fails the comparison too
    bad_accuracy = ~((f.accuracy > 0) & (f.accuracy <= s.max_accuracy_m))
    future = f.t > f.received_at + s.future_tolerance_s
    stale = f.received_at - f.t > s.max_age_s
    # Order: not after the latest in-order timestamp already seen, or equal to the previous sane one here.
    sane = ~(future | stale)
    last_sane = np.maximum.accumulate(np.where(sane, np.arange(n), -1))
    prev = np.empty(n, dtype=np.int64)
    prev[0] = -1
    prev[1:] = last_sane[:-1]
    dup = (prev >= starts[block]) & (f.t == f.t[np.maximum(prev, 0)])
    ooo = sane & ((f.t <= p["last_t"][block]) | dup)
    flags = f.mock.astype(np.int64) * Flag.MOCK_LOCATION
    for mask, flag in (
        (bad_coords, Flag.BAD_COORDINATES),
        (bad_accuracy, Flag.BAD_ACCURACY),
        (future, Flag.FUTURE),
        (stale, Flag.STALE),
        (ooo, Flag.OUT_OF_ORDER),
    ):
        if mask.any():
            flags[mask] |= flag

    carry = {k: v.copy() for k, v in p.items()}
    counts = np.diff(np.append(starts, n))
    sane_t = np.where(sane, f.t, -np.inf)
    blk_max = np.maximum.reduceat(sane_t, starts) if n else sane_t
    carry["last_t"] = np.fmax(p["last_t"], np.where(np.isfinite(blk_max), blk_max, np.nan))
    teleport_from = _sequence_checks(f, block, flags, p, carry, s)
    if n:
        carry["last_flags"] = flags[starts + counts - 1]
    return Screened(flags, teleport_from, carry)


def _sequence_checks(
    f: FixBatch,
    block: np.ndarray,
    flags: np.ndarray,
    p: dict[str, np.ndarray],
    carry: dict[str, np.ndarray],
    s: Settings,
) -> dict[int, Fix]:
    """Teleport and frozen checks over the fixes that passed the per-fix checks, continuing from state.

    Each person's sequence is, in effect, [older carried, newer carried, survivors...]: the carried pair
    stands in for the previous fixes of the person's first survivors.
    """
    idx = np.flatnonzero(flags == 0)
    m = len(idx)
    if m == 0:
        return {}
    t, lat, lon, acc = f.t[idx], f.lat[idx], f.lon[idx], f.accuracy[idx]
    sb = block[idx]
    first = np.ones(m, dtype=bool)
    first[1:] = sb[1:] != sb[:-1]
    heads = np.flatnonzero(first)
    blocks = sb[heads]
    cur = {"t": t, "lat": lat, "lon": lon, "acc": acc}
    prev = {}
    for name, col in cur.items():
        pv = np.empty(m)
        pv[1:] = col[:-1]
        pv[heads] = p[f"s_{name}"][blocks, 1]
        prev[name] = pv

    def fast(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> np.ndarray:
        """Implied speed from a to b above the limit, both accuracy radii subtracted (jitter is not motion).
        Equirectangular metres (about 0.5 % off for short hops): only speed matters here."""
        dlon, dlat = b["lon"] - a["lon"], b["lat"] - a["lat"]
        slack = a["acc"] + b["acc"]
        limit = s.max_speed_mps * np.maximum(b["t"] - a["t"], s.min_interval_s)
        # |dlat| + |dlon| degrees bound the distance from above: only the few pairs that could be too fast
        # get the exact formula (NaN compares False, so missing fixes are never fast).
        with np.errstate(invalid="ignore"):
            out = (np.abs(dlon) + np.abs(dlat)) * _M_PER_DEG - slack > limit
        i = np.flatnonzero(out)
        if i.size:
            dl = dlon[i]
            dl = np.where(np.abs(dl) > 180.0, dl - np.copysign(360.0, dl), dl)  # across the antimeridian
            dx, dy = dl * np.cos(np.radians(b["lat"][i])), dlat[i]
            out[i] = np.sqrt(dx * dx + dy * dy) * _M_PER_DEG - slack[i] > limit[i]
        return out

    f1 = fast(prev, cur)
    # A lone spike A -> B -> C where C is plausible from A flags only B: C's jump back is a return.
    older = {n: p[f"s_{n}"][blocks, 0] for n in cur}
    newer = {n: p[f"s_{n}"][blocks, 1] for n in cur}
    f1_before = np.empty(m, dtype=bool)
    f1_before[1:] = f1[:-1]
    f1_before[heads] = fast(older, newer)
    both = np.flatnonzero(f1 & f1_before)
    teleport = f1.copy()
    if both.size:
        pos = both - heads[np.searchsorted(heads, both, side="right") - 1]  # position within the person's run
        hb = np.searchsorted(heads, both, side="right") - 1
        two_back = {
            n: np.where(
                pos >= 2, cur[n][np.maximum(both - 2, 0)], np.where(pos == 1, newer[n][hb], older[n][hb])
            )
            for n in cur
        }
        teleport[both] = fast(two_back, {n: c[both] for n, c in cur.items()})

    # Frozen: runs of bit-identical coordinates, continuing the stored run through the newer carried fix.
    same = (lat == prev["lat"]) & (lon == prev["lon"])
    ar = np.arange(m)
    run_start = np.maximum.accumulate(np.where(same & ~first, 0, ar))
    length = ar - run_start + 1
    carried = np.zeros(m, dtype=np.int64)
    carried[heads] = np.where(same[heads], p["frozen_len"][blocks], 0)
    length += carried[run_start]
    frozen = length >= s.frozen_run

    flags[idx] |= np.where(teleport, Flag.TELEPORT, 0) | np.where(frozen, Flag.FROZEN, 0)
    tails = np.append(heads[1:], m) - 1
    two = tails - 1 >= heads
    for name, col in (*cur.items(), ("id", f.fix_id[idx])):
        key = f"s_{name}"
        carry[key][blocks, 0] = np.where(two, col[np.maximum(tails - 1, 0)], p[key][blocks, 1])
        carry[key][blocks, 1] = col[tails]
    carry["frozen_len"][blocks] = length[tails]
    out = {}
    for i in np.flatnonzero(teleport).tolist():
        row = int(idx[i])
        if first[i]:  # measured from the newer carried fix
            b = int(sb[i])
            out[row] = Fix(
                int(f.person[row]),
                float(p["s_t"][b, 1]),
                float(p["s_lat"][b, 1]),
                float(p["s_lon"][b, 1]),
                float(p["s_acc"][b, 1]),
                False,
                int(p["s_id"][b, 1]),
            )
        else:
            r = int(idx[i - 1])
            out[row] = Fix(
                int(f.person[r]),
                float(f.t[r]),
                float(f.lat[r]),
                float(f.lon[r]),
                float(f.accuracy[r]),
                bool(f.mock[r]),
                int(f.fix_id[r]),
            )
    return out
