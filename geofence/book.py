"""FenceBook: the zones of many persons compiled into columns, built once and reused for every batch."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from geofence.events import EventKind
from geofence.schedule import Schedule, ScheduleTable
from geofence.shapes import CompiledShape, ShapeTable, compile_shape
from geofence.state import rule_key, search_sorted
from geofence.zones import PersonFences, Role

ALLOWED, FORBIDDEN = 0, 1


class FenceBook:
    """Rules (one per person and zone) in person order, with CSR offsets per person.

    Build it when fences change and keep it (e.g. per process, keyed by a fences version); compiled shapes
    are cached by content, so rebuilding for one person's upload is cheap too.
    """

    def __init__(self, fences: Mapping[int, PersonFences]) -> None:
        pids = sorted(int(p) for p in fences)
        shape_ix: dict[int, int] = {}
        shapes: list[CompiledShape] = []
        sched_ix: dict[Schedule, int] = {}
        tz_ix: dict[str, int] = {}
        ptr = [0]
        tz_of_person = []
        rule_shape, rule_role, rule_margin, rule_sched, rule_kind = [], [], [], [], []
        self.rule_zone: list[str] = []
        self.rule_severity: list[str] = []
        keys = []
        for pid in pids:
            pf = fences[pid]
            tz_of_person.append(tz_ix.setdefault(pf.tz or "UTC", len(tz_ix)))
            for zone in pf.zones:
                cs = compile_shape(zone.shape)
                if id(cs) not in shape_ix:
                    shape_ix[id(cs)] = len(shapes)
                    shapes.append(cs)
                rule_shape.append(shape_ix[id(cs)])
                rule_role.append(ALLOWED if zone.role is Role.ALLOWED else FORBIDDEN)
                rule_margin.append(zone.margin_m)
                rule_sched.append(
                    -1 if zone.schedule is None else sched_ix.setdefault(zone.schedule, len(sched_ix))
                )
                if zone.role is Role.FORBIDDEN:
                    rule_kind.append(EventKind.ENTERED_FORBIDDEN_PLACE)
                else:
                    rule_kind.append(
                        EventKind.CURFEW_BROKEN if zone.is_curfew else EventKind.LEFT_ALLOWED_AREA
                    )
                self.rule_zone.append(zone.id)
                self.rule_severity.append(zone.severity.value)
                keys.append(rule_key(pid, zone.id))
            ptr.append(len(rule_shape))
        self.person_id = np.array(pids, dtype=np.int64)
        self.rule_ptr = np.array(ptr, dtype=np.int64)
        self.person_tz = np.array(tz_of_person, dtype=np.int64)
        self.tz_names = list(tz_ix)
        self.shapes = ShapeTable(shapes)
        self.schedules = ScheduleTable(list(sched_ix))
        self.rule_shape = np.array(rule_shape, dtype=np.int64)
        self.rule_role = np.array(rule_role, dtype=np.int8)
        self.rule_margin = np.array(rule_margin, dtype=np.float64)
        self.rule_sched = np.array(rule_sched, dtype=np.int64)
        self.rule_kind = rule_kind
        self.rule_key = np.array(keys, dtype=np.int64)
        self.rule_zone_arr = np.array(self.rule_zone, dtype=object)

    def rows(self, person_ids: np.ndarray) -> np.ndarray:
        """Row of each person in the book, -1 for persons without fences."""
        idx = search_sorted(self.person_id, person_ids)
        ok = idx < len(self.person_id)
        ok[ok] = self.person_id[idx[ok]] == person_ids[ok]
        return np.where(ok, idx, -1)

    def rule_span(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First rule index and rule count per book row (-1 rows have none)."""
        ok = rows >= 0
        safe = np.where(ok, rows, 0)
        first = self.rule_ptr[np.minimum(safe, len(self.rule_ptr) - 1)]
        count = np.where(ok, self.rule_ptr[np.minimum(safe + 1, len(self.rule_ptr) - 1)] - first, 0)
        return first, count
