"""Per-person judgement state carried between batches: columnar for the engine, per person for storage.

The engine works on `State`, a set of columns over many persons (and their zone rules), so a batch for
10,000 persons needs no per-person Python. For a database, split it with `State.person(pid)` into a
`PersonState`, whose `to_json()` is a small JSON object (one row per person), and rebuild with
`State.from_persons({pid: PersonState.from_json(obj), ...})`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geofence.events import Fix

# Classes of a (fix, zone) judgement, as seen by the zone's rule.
UNSURE, BREACHING, COMPLYING, INACTIVE = 0, 1, 2, 3
CLASS_NAMES = ("unsure", "breaching", "complying", "inactive")
SURVIVORS = 2  # plausibility remembers the last two screened fixes (teleport and frozen checks)

FieldSpec = tuple[Any, Any, bool]  # dtype, default, has a second axis


PERSON_FIELDS: dict[str, FieldSpec] = {
    "pid": (np.int64, 0, False),
    "last_t": (np.float64, math.nan, False),  # latest timestamp accepted as in order
    "last_flags": (np.int64, 0, False),  # flags of the latest fix received (flag episodes)
    "seen_t": (np.float64, math.nan, False),  # latest accepted fix (signal)
    "lost": (np.bool_, False, False),
    "frozen_len": (np.int64, 0, False),
    # last two fixes that passed the per-fix checks, oldest first
    "s_t": (np.float64, math.nan, True),
    "s_lat": (np.float64, math.nan, True),
    "s_lon": (np.float64, math.nan, True),
    "s_acc": (np.float64, math.nan, True),
    "s_id": (np.int64, -1, True),
    # the latest accepted fixes, oldest first, left-padded with NaN times: proof for runs spanning batches
    "r_t": (np.float64, math.nan, True),
    "r_lat": (np.float64, math.nan, True),
    "r_lon": (np.float64, math.nan, True),
    "r_acc": (np.float64, math.nan, True),
    "r_mock": (np.bool_, False, True),
    "r_id": (np.int64, -1, True),
}
RULE_FIELDS: dict[str, FieldSpec] = {
    "key": (np.int64, 0, False),
    "pid": (np.int64, 0, False),
    "zone_id": (object, "", False),
    "breached": (np.bool_, False, False),
    "run_class": (np.int8, -1, False),
    "run_len": (np.int64, 0, False),
    "run_t0": (np.float64, math.nan, False),
    "run_q": (np.bool_, False, False),  # the current run already met the confirmation rule
    "f_t": (np.float64, math.nan, False),
    "f_lat": (np.float64, math.nan, False),
    "f_lon": (np.float64, math.nan, False),
    "f_acc": (np.float64, math.nan, False),
    "f_mock": (np.bool_, False, False),
    "f_id": (np.int64, -1, False),
}


def rule_key(person_id: int, zone_id: str) -> int:
    """A stable 64-bit key for a (person, zone) rule; collisions are astronomically unlikely."""
    digest = hashlib.blake2b(f"{person_id}\x1f{zone_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


_EMPTY_COLUMNS: dict[tuple[int, int], dict[str, np.ndarray]] = {}


class Table:
    """Named columns sorted by a key column; immutable by convention."""

    def __init__(self, spec: dict[str, FieldSpec], key: str, cols: dict[str, np.ndarray], width: int) -> None:
        self.spec, self.key, self.cols, self.width = spec, key, cols, width

    @staticmethod
    def empty(spec: dict[str, FieldSpec], key: str, width: int, n: int = 0) -> Table:
        if n == 0:  # a one-person upload builds several empty tables; zero-length columns can be shared
            cache_key = (id(spec), width)
            if (cols := _EMPTY_COLUMNS.get(cache_key)) is None:
                cols = _EMPTY_COLUMNS[cache_key] = Table._columns(spec, width, 0)
            return Table(spec, key, dict(cols), width)
        return Table(spec, key, Table._columns(spec, width, n), width)

    @staticmethod
    def _columns(spec: dict[str, FieldSpec], width: int, n: int) -> dict[str, np.ndarray]:
        return {
            name: np.full((n, width) if wide else n, default, dtype=dtype)
            for name, (dtype, default, wide) in spec.items()
        }

    def __len__(self) -> int:
        return len(self.cols[self.key])

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of each key and whether it exists."""
        col = self.cols[self.key]
        idx = search_sorted(col, keys)
        found = idx < len(col)
        found[found] = col[idx[found]] == keys[found]
        return np.where(found, idx, 0), found

    def gather(self, keys: np.ndarray) -> dict[str, np.ndarray]:
        """Columns for `keys`, defaults where a key is absent."""
        idx, found = self.find(keys)
        if found.all():
            return {name: col[idx] for name, col in self.cols.items()}
        out = Table.empty(self.spec, self.key, self.width, len(keys)).cols
        rows = np.flatnonzero(found)
        for name, col in self.cols.items():
            out[name][rows] = col[idx[rows]]
        out[self.key] = keys.copy()
        return out

    def resized(self, width: int) -> Table:
        """The same rows with wide columns cut or left-padded to `width` (the latest entries kept)."""
        if width == self.width:
            return self
        cols = {}
        for name, (dtype, default, wide) in self.spec.items():
            col = self.cols[name]
            if wide:
                pad = np.full((len(col), max(0, width - self.width)), default, dtype=dtype)
                col = np.concatenate([pad, col[:, max(0, self.width - width) :]], axis=1)
            cols[name] = col
        return Table(self.spec, self.key, cols, width)

    def replace(self, drop: np.ndarray, new: dict[str, np.ndarray]) -> Table:
        """The rows of persons `drop` replaced by the rows `new` (which may add, keep or remove rows)."""
        dropped = np.isin(self.cols["pid"], drop)
        idx, found = self.find(new[self.key])
        if found.all() and int(dropped.sum()) == len(idx):  # same rows as before: update in place (a copy)
            cols = {n: c.copy() for n, c in self.cols.items()}
            for n in self.spec:
                cols[n][idx] = new[n]
            return Table(self.spec, self.key, cols, self.width)
        cols = {n: np.concatenate([self.cols[n][~dropped], new[n]]) for n in self.spec}
        order = np.argsort(cols[self.key], kind="stable")
        return Table(self.spec, self.key, {n: c[order] for n, c in cols.items()}, self.width)


def search_sorted(sorted_col: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """np.searchsorted, with the queries sorted first: several times faster for many random keys."""
    if len(keys) < 64:
        return np.searchsorted(sorted_col, keys)
    order = np.argsort(keys)
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.searchsorted(sorted_col, keys[order])
    return out


@dataclass(frozen=True, slots=True)
class RuleState:
    breached: bool = False
    run_class: str | None = None
    run_len: int = 0
    run_t0: float | None = None
    run_qualified: bool = False
    run_first: Fix | None = None


@dataclass(frozen=True, slots=True)
class PersonState:
    """One person's state, for storage between batches (see `to_json`)."""

    person_id: int
    last_t: float | None = None
    last_flags: int = 0
    seen_t: float | None = None
    signal_lost: bool = False
    frozen_len: int = 0
    screened: tuple[Fix, ...] = ()  # the last two fixes that passed the per-fix checks
    recent: tuple[Fix, ...] = ()  # the latest accepted fixes (proof for runs that span batches)
    rules: dict[str, RuleState] = field(default_factory=dict)  # by zone id

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "person_id": self.person_id,
            "last_t": self.last_t,
            "last_flags": self.last_flags,
            "seen_t": self.seen_t,
            "signal_lost": self.signal_lost,
            "frozen_len": self.frozen_len,
            "screened": [f.to_json() for f in self.screened],
            "recent": [f.to_json() for f in self.recent],
            "rules": {
                zid: {
                    "breached": r.breached,
                    "run_class": r.run_class,
                    "run_len": r.run_len,
                    "run_t0": r.run_t0,
                    "run_qualified": r.run_qualified,
                    "run_first": r.run_first.to_json() if r.run_first else None,
                }
                for zid, r in self.rules.items()
            },
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> PersonState:
        rules = {
            zid: RuleState(
                bool(r["breached"]),
                r["run_class"],
                int(r["run_len"]),
                r["run_t0"],
                bool(r["run_qualified"]),
                Fix.from_json(r["run_first"]) if r.get("run_first") else None,
            )
            for zid, r in d.get("rules", {}).items()
        }
        return PersonState(
            int(d["person_id"]),
            d.get("last_t"),
            int(d.get("last_flags", 0)),
            d.get("seen_t"),
            bool(d.get("signal_lost", False)),
            int(d.get("frozen_len", 0)),
            tuple(Fix.from_json(f) for f in d.get("screened", [])),
            tuple(Fix.from_json(f) for f in d.get("recent", [])),
            rules,
        )


def _opt(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


@dataclass(frozen=True, eq=False, slots=True)
class State:
    """Columns for many persons (sorted by id) and their zone rules (sorted by rule key)."""

    persons: Table
    rules: Table
    _rule_order: list[np.ndarray] = field(default_factory=list, repr=False)  # rule rows by person, lazily

    def _rules_of(self, pid: int) -> np.ndarray:
        if not self._rule_order:
            self._rule_order.append(np.argsort(self.rules.cols["pid"], kind="stable"))
        order = self._rule_order[0]
        pids = self.rules.cols["pid"][order]
        return order[np.searchsorted(pids, pid, side="left") : np.searchsorted(pids, pid, side="right")]

    @staticmethod
    def empty(ring_width: int = 4) -> State:
        return State(Table.empty(PERSON_FIELDS, "pid", ring_width), Table.empty(RULE_FIELDS, "key", 1))

    def __len__(self) -> int:
        return len(self.persons)

    def person_ids(self) -> list[int]:
        return self.persons.cols["pid"].tolist()

    def person(self, pid: int) -> PersonState | None:
        idx, found = self.persons.find(np.array([pid], dtype=np.int64))
        if not found[0]:
            return None
        c, i = self.persons.cols, int(idx[0])
        screened = tuple(
            Fix(
                pid,
                float(c["s_t"][i, j]),
                float(c["s_lat"][i, j]),
                float(c["s_lon"][i, j]),
                float(c["s_acc"][i, j]),
                False,
                int(c["s_id"][i, j]),
            )
            for j in range(SURVIVORS)
            if not math.isnan(c["s_t"][i, j])
        )
        recent = tuple(
            Fix(
                pid,
                float(c["r_t"][i, j]),
                float(c["r_lat"][i, j]),
                float(c["r_lon"][i, j]),
                float(c["r_acc"][i, j]),
                bool(c["r_mock"][i, j]),
                int(c["r_id"][i, j]),
            )
            for j in range(self.persons.width)
            if not math.isnan(c["r_t"][i, j])
        )
        rc = self.rules.cols
        rules = {}
        for k in self._rules_of(pid):
            first = None
            if not math.isnan(rc["f_t"][k]):
                first = Fix(
                    pid,
                    float(rc["f_t"][k]),
                    float(rc["f_lat"][k]),
                    float(rc["f_lon"][k]),
                    float(rc["f_acc"][k]),
                    bool(rc["f_mock"][k]),
                    int(rc["f_id"][k]),
                )
            cls = int(rc["run_class"][k])
            rules[str(rc["zone_id"][k])] = RuleState(
                bool(rc["breached"][k]),
                CLASS_NAMES[cls] if cls >= 0 else None,
                int(rc["run_len"][k]),
                _opt(rc["run_t0"][k]),
                bool(rc["run_q"][k]),
                first,
            )
        return PersonState(
            pid,
            _opt(c["last_t"][i]),
            int(c["last_flags"][i]),
            _opt(c["seen_t"][i]),
            bool(c["lost"][i]),
            int(c["frozen_len"][i]),
            screened,
            recent,
            rules,
        )

    def persons_iter(self) -> Iterator[PersonState]:
        for pid in self.person_ids():
            ps = self.person(pid)
            assert ps is not None
            yield ps

    @staticmethod
    def from_persons(persons: Mapping[int, PersonState] | list[PersonState], ring_width: int = 4) -> State:
        return State.empty(ring_width).with_persons(persons)

    def with_persons(self, persons: Mapping[int, PersonState] | list[PersonState]) -> State:
        """This state with the given persons' rows replaced (or added)."""
        items = list(persons.values()) if isinstance(persons, Mapping) else list(persons)
        width = self.persons.width
        p = Table.empty(PERSON_FIELDS, "pid", width, len(items)).cols
        n_rules = sum(len(ps.rules) for ps in items)
        r = Table.empty(RULE_FIELDS, "key", 1, n_rules).cols
        k = 0
        for i, ps in enumerate(items):
            p["pid"][i] = ps.person_id
            p["last_t"][i], p["seen_t"][i] = _nan(ps.last_t), _nan(ps.seen_t)
            p["last_flags"][i], p["lost"][i], p["frozen_len"][i] = (
                ps.last_flags,
                ps.signal_lost,
                ps.frozen_len,
            )
            for j, f in enumerate(ps.screened[-SURVIVORS:]):
                col = SURVIVORS - len(ps.screened[-SURVIVORS:]) + j
                p["s_t"][i, col], p["s_lat"][i, col], p["s_lon"][i, col] = f.t, f.lat, f.lon
                p["s_acc"][i, col], p["s_id"][i, col] = f.accuracy_m, f.fix_id
            recent = ps.recent[-width:] if width else ()
            for j, f in enumerate(recent):
                col = width - len(recent) + j
                p["r_t"][i, col], p["r_lat"][i, col], p["r_lon"][i, col] = f.t, f.lat, f.lon
                p["r_acc"][i, col], p["r_mock"][i, col], p["r_id"][i, col] = f.accuracy_m, f.mock, f.fix_id
            for zid, rs in ps.rules.items():
                r["key"][k], r["pid"][k], r["zone_id"][k] = rule_key(ps.person_id, zid), ps.person_id, zid
                r["breached"][k], r["run_len"][k], r["run_q"][k] = rs.breached, rs.run_len, rs.run_qualified
                r["run_class"][k] = CLASS_NAMES.index(rs.run_class) if rs.run_class else -1
                r["run_t0"][k] = _nan(rs.run_t0)
                if rs.run_first is not None:
                    f = rs.run_first
                    r["f_t"][k], r["f_lat"][k], r["f_lon"][k], r["f_acc"][k] = f.t, f.lat, f.lon, f.accuracy_m
                    r["f_mock"][k], r["f_id"][k] = f.mock, f.fix_id
                k += 1
        pids = p["pid"]
        if len(np.unique(pids)) != len(pids):
            raise ValueError("duplicate person ids")
        order = np.argsort(pids, kind="stable")
        p = {n: c[order] for n, c in p.items()}
        return State(self.persons.replace(pids, p), self.rules.replace(pids, r))
