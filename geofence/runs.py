"""The per-rule state machine, vectorised: runs of consecutive judgements confirm breaches and returns.

Sequential form, per (person, zone) rule: while clear, a run of BREACHING fixes that reaches N fixes or D
seconds of dwell confirms a breach; while breached, a COMPLYING run that does the same confirms the return;
an INACTIVE fix (schedule window over) closes a breach. UNSURE fixes and signal gaps break runs.

Vectorised form: the state after any point equals the kind of the latest "qualifying point" (the fix at
which a run first meets the rule: BREACHING -> breached, COMPLYING -> clear; first INACTIVE fix -> clear),
because a qualifying run sets the state whatever it was. Runs come from a cumulative maximum, qualifying
points from one comparison, and state changes where a point's kind differs from the previous point's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geofence.state import INACTIVE


@dataclass(frozen=True, slots=True)
class RunResult:
    change_at: np.ndarray  # pair index of each state change
    change_to: np.ndarray  # 1 = breached, 0 = clear
    change_inactive: np.ndarray  # the change is a window closing
    run_start: np.ndarray  # per pair: first pair of its run within this batch
    cont: np.ndarray  # per pair, meaningful at run starts: the run began in an earlier batch
    run_len: np.ndarray  # per pair: fixes in the run so far
    run_t0: np.ndarray  # per pair: time of the run's first fix
    qualified: np.ndarray  # per pair: the run has met the confirmation rule
    breached: np.ndarray  # per segment, after the batch
    last: np.ndarray  # per segment: its last pair


def advance(
    cls: np.ndarray,
    t: np.ndarray,
    brk: np.ndarray,
    seg_first: np.ndarray,
    carry: dict[str, np.ndarray],
    confirm_fixes: int | None,
    confirm_dwell_s: float | None,
) -> RunResult:
    """Pairs are ordered by segment (one per rule) then time; `carry` has one row per segment."""
    m = len(cls)
    idx = np.int32 if m < 2**31 - 1 else np.int64  # narrower indices: less memory traffic
    sf = np.flatnonzero(seg_first)
    n_seg = len(sf)
    # A segment's first run continues the stored one if nothing broke it and the class is the same.
    cont_s = ~brk[sf] & (cls[sf] == carry["run_class"])
    cont = np.zeros(m, dtype=bool)
    cont[sf] = cont_s
    piece_start = brk.copy()
    np.not_equal(cls[1:], cls[:-1], out=piece_start[1:], where=~piece_start[1:])
    piece_start[sf] = True
    k = np.arange(m, dtype=idx)
    ps = np.maximum.accumulate(np.where(piece_start, k, idx(0)))
    run_len = k - ps
    run_len += 1
    if cont_s.any():  # runs carried over from the previous batch start longer and earlier
        extra = np.zeros(m, dtype=np.int64)
        extra[sf] = np.where(cont_s, carry["run_len"], 0)
        run_len = run_len + extra[ps]
        t_start = t.copy()
        t_start[sf[cont_s]] = carry["run_t0"][cont_s]
        run_t0 = t_start[ps]
    else:
        run_t0 = t[ps]
    met = np.zeros(m, dtype=bool)
    if confirm_fixes is not None:
        met |= run_len >= confirm_fixes
    if confirm_dwell_s is not None:
        met |= t - run_t0 >= confirm_dwell_s
    cond = met & ((cls.view(np.uint8) - np.uint8(1)) < 2)  # BREACHING (1) or COMPLYING (2)
    before = np.empty(m, dtype=bool)
    before[0] = False
    np.logical_and(cond[:-1], ~piece_start[1:], out=before[1:])
    before[sf] = cont_s & carry["run_q"]
    qualify = cond & ~before
    window_end = (cls == INACTIVE) & piece_start & ~cont
    points = np.flatnonzero(qualify | window_end)
    kind = qualify[points] & (cls[points] == 1)
    seg_of = np.searchsorted(sf, points, side="right") - 1
    first_pt = np.ones(len(points), dtype=bool)
    first_pt[1:] = seg_of[1:] != seg_of[:-1]
    prev = np.empty(len(points), dtype=bool)
    prev[1:] = kind[:-1]
    prev[first_pt] = carry["breached"][seg_of[first_pt]]
    change = kind != prev
    last = np.append(sf[1:] - 1, m - 1) if m else np.zeros(0, dtype=np.int64)
    # The state after each segment: its last point's kind, else what it carried in.
    last_pt = np.searchsorted(seg_of, np.arange(n_seg), side="right") - 1
    has_pt = last_pt >= 0
    has_pt[has_pt] = seg_of[last_pt[has_pt]] == np.arange(n_seg)[has_pt]
    breached = carry["breached"].copy()
    breached[has_pt] = kind[last_pt[has_pt]]
    return RunResult(
        change_at=points[change],
        change_to=kind[change].astype(np.int8),
        change_inactive=window_end[points[change]],
        run_start=ps,
        cont=cont,
        run_len=run_len,
        run_t0=run_t0,
        qualified=cond,
        breached=breached,
        last=last,
    )
