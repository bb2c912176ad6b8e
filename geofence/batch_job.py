"""One batch's judgement of its accepted fixes (after screening): signal gaps, every zone rule slot by
slot, and the ring of latest fixes kept as proof for runs that span batches. Pure: no I/O."""

from __future__ import annotations

import numpy as np

from geofence.book import FenceBook
from geofence.classify import classify
from geofence.events import Event, EventKind, Fix
from geofence.fixes import FixBatch
from geofence.proof import FixCache, fix_columns, ring_fixes, ring_last, unique_fixes
from geofence.runs import RunResult, advance
from geofence.schedule import day_parts, local_seconds
from geofence.settings import Settings
from geofence.state import BREACHING, COMPLYING, INACTIVE, RULE_FIELDS, UNSURE, Table

# Batches with at most this many (fix, zone) pairs are judged in one pass over all zone slots; bigger ones
# slot by slot, which keeps the working arrays to one slot's size.
ONE_PASS_MAX_PAIRS = 65_536
# (role, verdict) -> class: allowed areas must be IN, forbidden places OUT. Verdicts: UNSURE, IN, OUT.
_CLASS = np.array([[UNSURE, COMPLYING, BREACHING], [UNSURE, BREACHING, COMPLYING]], dtype=np.int8)


def _take(a: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    return a if idx is None else a[idx]


class BatchJob:
    """One batch's judgement of accepted fixes, in steps that share the batch's arrays.

    Zone rules are judged slot by slot: slot j holds every person's j-th zone, so a slot's judgements
    line up with the accepted fixes themselves (sorted by person, then time) and each person's run of
    judgements for that zone is one contiguous segment, without building (fix, zone) pair arrays.
    """

    def __init__(
        self,
        book: FenceBook,
        rules: Table,
        f: FixBatch,
        block: np.ndarray,
        bpid: np.ndarray,
        p: dict[str, np.ndarray],
        carry: dict[str, np.ndarray],
        s: Settings,
        events: list[Event],
    ) -> None:
        self.book, self.rules_table, self.f, self.block, self.bpid = book, rules, f, block, bpid
        self.p, self.carry, self.s, self.events = p, carry, s, events
        self.fix = FixCache(f)
        self.rules_dropped = np.zeros(0, dtype=np.int64)
        self.rules_new: dict[str, np.ndarray] = {}

    def run(self, acc: np.ndarray) -> None:
        if acc.size == 0:
            return
        self.acc = acc
        self.ab = self.block[acc]
        self.a_start = np.searchsorted(self.ab, np.arange(len(self.bpid)))
        self.a_count = np.diff(np.append(self.a_start, len(acc)))
        self.t = self.f.t[acc]
        self.brow = self.book.rows(self.bpid)
        brk = self._signal()
        self._rules(brk)
        self._ring()

    def _signal(self) -> np.ndarray:
        """Signal gaps between accepted fixes: events, and the run breaks they cause."""
        acc, ab, p, s, t = self.acc, self.ab, self.p, self.s, self.t
        first = np.concatenate([[True], ab[1:] != ab[:-1]])
        prev_t = np.concatenate([[np.nan], t[:-1]])
        prev_t[first] = p["seen_t"][ab[first]]
        with np.errstate(invalid="ignore"):
            gap = t - prev_t > s.signal_loss_s
        restore = first & p["lost"][ab]
        for i in np.flatnonzero(gap | restore).tolist():
            fix = self.fix(int(acc[i]))
            if not restore[i]:
                before = ring_last(p, int(ab[i]), fix.person_id) if first[i] else (self.fix(int(acc[i - 1])),)
                lost_at = float(prev_t[i]) + s.signal_loss_s
                self.events.append(Event(EventKind.SIGNAL_LOST, fix.person_id, lost_at, fixes=before))
            self.events.append(Event(EventKind.SIGNAL_RESTORED, fix.person_id, fix.t, fixes=(fix,)))
        has = self.a_count > 0
        self.carry["seen_t"][has] = t[self.a_start[has] + self.a_count[has] - 1]
        self.carry["lost"][has] = False
        return gap | restore

    def _rules(self, brk: np.ndarray) -> None:
        """Judge every zone rule of the persons with accepted fixes, one slot at a time."""
        book, f, acc, s = self.book, self.f, self.acc, self.s
        # Persons with accepted fixes get their rule rows rewritten (zones removed since are dropped).
        self.rules_dropped = self.bpid[self.a_count > 0]
        first_rule, n_rules = book.rule_span(self.brow)
        fix_rules, fix_first = n_rules[self.ab], first_rule[self.ab]
        self.radius = np.maximum(f.accuracy[acc] * s.accuracy_scale, s.accuracy_floor_m)
        self.lon, self.lat = f.lon[acc], f.lat[acc]
        slots = []
        for j in range(int(fix_rules.max(initial=0))):
            # The accepted fixes whose person has a j-th zone (None: all of them, the common case).
            sel = None if fix_rules.min() > j else np.flatnonzero(fix_rules > j)
            slots.append((_take(fix_first, sel) + j, sel))
        if len(slots) > 1 and len(acc) * len(slots) <= ONE_PASS_MAX_PAIRS:
            # A small batch (one phone's upload) is judged in one pass over all its slots: each pass costs a
            # fixed hundred-odd microseconds of numpy calls, more than judging the pairs themselves. Pairs
            # stay ordered by rule and then time, which is all a pass needs.
            everyone = np.arange(len(acc))
            slots = [
                (
                    np.concatenate([rule for rule, _ in slots]),
                    np.concatenate([_take(everyone, sel) for _, sel in slots]),
                )
            ]
        rows = [self._slot(rule, sel, brk) for rule, sel in slots]
        empty = Table.empty(RULE_FIELDS, "key", 1).cols
        self.rules_new = {n: np.concatenate([r[n] for r in rows]) for n in RULE_FIELDS} if rows else empty

    def _slot(self, rule: np.ndarray, sel: np.ndarray | None, brk: np.ndarray) -> dict[str, np.ndarray]:
        """One slot: judge each fix against its person's zone `rule`, run the rules' state machines."""
        book, s = self.book, self.s
        active = self._active(rule, sel)
        ai = None if active is None else np.flatnonzero(active)
        rule_a = _take(rule, ai)

        def fixes_of(col: np.ndarray) -> np.ndarray:
            return _take(_take(col, sel), ai)

        shape, margin = book.rule_shape[rule_a], book.rule_margin[rule_a]
        verdict = classify(
            book.shapes, shape, fixes_of(self.lon), fixes_of(self.lat), fixes_of(self.radius), margin
        )
        judged = _CLASS[book.rule_role[rule_a], verdict]
        if ai is None:
            cls = judged
        else:
            cls = np.full(len(rule), INACTIVE, dtype=np.int8)
            cls[ai] = judged
        ab = _take(self.ab, sel)
        seg_first = np.concatenate([[True], rule[1:] != rule[:-1]])  # one segment per rule of a person
        seg_rule = rule[seg_first]
        rc = self.rules_table.gather(book.rule_key[seg_rule])
        t, brk = _take(self.t, sel), _take(brk, sel)
        res = advance(cls, t, brk, seg_first, rc, s.confirm_fixes, s.confirm_dwell_s)
        a_of = np.arange(len(self.acc)) if sel is None else sel  # judgement -> accepted fix
        self._rule_events(res, a_of, rule, rc, np.cumsum(seg_first) - 1)
        return self._rule_rows(res, cls, a_of, seg_rule, ab[seg_first], rc)

    def _active(self, rule: np.ndarray, sel: np.ndarray | None) -> np.ndarray | None:
        """Whether each judgement's zone is active at the fix's local time; None when all are."""
        book = self.book
        sched = book.rule_sched[rule]
        sp = np.flatnonzero(sched >= 0)
        if sp.size == 0:
            return None
        sec, bit = self._day_parts()
        if sp.size == len(rule):  # every judgement of the slot is scheduled (e.g. everyone's curfew)
            fa = sel
            return book.schedules.active(sched, _take(sec, fa), None if bit is None else _take(bit, fa))
        fa = sp if sel is None else sel[sp]
        active = np.ones(len(rule), dtype=bool)
        active[sp] = book.schedules.active(sched[sp], sec[fa], None if bit is None else bit[fa])
        return active

    def _day_parts(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Local second-of-day and weekday bit of each accepted fix, in its person's time zone (cached)."""
        if not hasattr(self, "_parts"):
            book, t = self.book, self.t
            tz_block = book.person_tz[np.maximum(self.brow, 0)]
            zones = np.unique(tz_block[self.a_count > 0])
            if len(zones) == 1:
                local = local_seconds(book.tz_names[zones[0]], t)
            else:
                local = np.empty(len(t))
                tz = tz_block[self.ab]
                for z in zones:
                    sel = tz == z
                    local[sel] = local_seconds(book.tz_names[z], t[sel])
            self._parts = day_parts(local, weekday=not book.schedules.every_day)
        return self._parts

    def _rule_events(
        self,
        res: RunResult,
        a_of: np.ndarray,
        rule_of: np.ndarray,
        rc: dict[str, np.ndarray],
        seg: np.ndarray,
    ) -> None:
        """Events for the state changes, each with its proof: the run's first fix and its latest ones."""
        book, q, acc = self.book, res.change_at, self.acc
        if q.size == 0:
            return
        width = self.s.proof_fixes - 1
        start = res.run_start[q]
        count = q - np.maximum(start, q - width + 1) + 1
        ends = np.cumsum(count)
        latest_rows = acc[
            a_of[np.repeat(q - count + 1, count) + np.arange(ends[-1]) - np.repeat(ends - count, count)]
        ]
        first_rows = acc[a_of[start]]
        self.fix.prefetch(np.concatenate([latest_rows, first_rows]))
        latest_l, ends_l, count_l, first_l = (
            latest_rows.tolist(),
            ends.tolist(),
            count.tolist(),
            first_rows.tolist(),
        )
        cont = res.cont[start].tolist()
        before = (res.run_len[q] - count).tolist()  # fixes of the run judged in earlier batches
        blocks = self.ab[a_of[q]].tolist()
        columns = (
            res.change_to.tolist(),
            res.change_inactive.tolist(),
            rule_of[q].tolist(),
            seg[q].tolist(),
            res.run_t0[q].tolist(),
            blocks,
        )
        for c, (to, inactive, rule, sg, t0, blk) in enumerate(zip(*columns, strict=True)):
            latest = [self.fix(i) for i in latest_l[ends_l[c] - count_l[c] : ends_l[c]]]
            fix = latest[-1]
            zone, severity = book.rule_zone[rule], book.rule_severity[rule]
            if inactive:
                self.events.append(
                    Event(EventKind.WINDOW_CLOSED, fix.person_id, fix.t, zone, severity, fixes=(fix,))
                )
                continue
            if cont[c]:  # the run began in an earlier batch: its first and older fixes come from the state
                pid, want = fix.person_id, min(width - count_l[c], before[c])
                earlier = ring_fixes(self.p, blk, pid, want) if want > 0 else ()
                first = Fix(
                    pid,
                    float(rc["f_t"][sg]),
                    float(rc["f_lat"][sg]),
                    float(rc["f_lon"][sg]),
                    float(rc["f_acc"][sg]),
                    bool(rc["f_mock"][sg]),
                    int(rc["f_id"][sg]),
                )
                proof = unique_fixes((first, *earlier, *latest))
            else:
                proof = unique_fixes((self.fix(first_l[c]), *latest))
            kind = book.rule_kind[rule] if to else EventKind.RETURNED
            self.events.append(Event(kind, fix.person_id, fix.t, zone, severity, t0, fixes=proof))

    def _rule_rows(
        self,
        res: RunResult,
        cls: np.ndarray,
        a_of: np.ndarray,
        seg_rule: np.ndarray,
        seg_block: np.ndarray,
        rc: dict[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Each rule's state after the batch, as rows for the state's rule table."""
        f, last = self.f, res.last
        start = res.run_start[last]
        cont = res.cont[start]
        first_fix = self.acc[a_of[start]]
        rows = {
            "key": self.book.rule_key[seg_rule],
            "pid": self.bpid[seg_block],
            "zone_id": self.book.rule_zone_arr[seg_rule],
            "breached": res.breached,
            "run_class": cls[last],
            "run_len": res.run_len[last],
            "run_t0": res.run_t0[last],
            "run_q": res.qualified[last],
        }
        for name, col in fix_columns(f):
            rows[f"f_{name}"] = np.where(cont, rc[f"f_{name}"], col[first_fix])
        return rows

    def _ring(self) -> None:
        """Remember each person's latest accepted fixes (oldest first) as proof for runs spanning batches."""
        f, acc, width = self.f, self.acc, self.s.proof_fixes - 1
        has = np.flatnonzero(self.a_count > 0)
        start, count = self.a_start[has, None], self.a_count[has, None]
        # One (person, slot) grid for all slots at once; slot j holds the fix `back` places before the newest.
        back = width - 1 - np.arange(width)[None, :]  # 0 = newest
        from_batch = back < count
        src = acc[np.clip(start + count - 1 - back, 0, len(acc) - 1)]
        ring_col = np.clip(width - 1 - (back - count), 0, width - 1)
        rows = has[:, None]
        for name, col in fix_columns(f):
            old = self.p[f"r_{name}"][rows, ring_col]
            self.carry[f"r_{name}"][has] = np.where(from_batch, col[src], old)
