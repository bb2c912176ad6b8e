"""Bulk judgement: a batch of fixes for many persons in, state changes (events) out. Pure: no I/O.

    result = judge_batch(book, state, fixes, settings)
    result.state    # carry to the next batch (or split per person for storage)
    result.events   # only state changes, each with the fixes that prove it
    result.flags    # per input fix: 0 accepted, else the Flag bits that set it aside for review

Hot path: numpy and vectorised shapely over all fixes and zones at once; Python loops run only per
event, per zone slot (a person's first zone, second zone...), per time zone and per schedule window.
Here: ordering, screening and flag events; the accepted fixes' judgement is in batch_job.py, the fixes
kept as proof in proof.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geofence.batch_job import BatchJob
from geofence.book import FenceBook
from geofence.events import Event, EventKind, flag_names
from geofence.fixes import FixBatch
from geofence.plausibility import Screened, screen
from geofence.proof import FixCache, ring_last
from geofence.settings import Settings
from geofence.state import PersonState, State, Table
from geofence.zones import PersonFences

DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True, eq=False, slots=True)
class BatchResult:
    state: State
    events: list[Event]
    flags: np.ndarray  # per input fix, input order


def judge_batch(
    book: FenceBook, state: State, fixes: FixBatch, settings: Settings = DEFAULT_SETTINGS
) -> BatchResult:
    """Judge a batch for any number of persons. Fixes may come in any order; the state must be the one
    returned for the previous batch (or `State.empty()`). Neither input is modified."""
    n = len(fixes)
    persons = state.persons.resized(settings.proof_fixes - 1)
    if n == 0:
        return BatchResult(State(persons, state.rules), [], np.zeros(0, dtype=np.int64))
    order = _order(fixes.person, fixes.t)
    f = fixes if order is None else fixes.take(order)
    starts = np.flatnonzero(np.concatenate([[True], f.person[1:] != f.person[:-1]]))
    block = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    bpid = f.person[starts]
    p = persons.gather(bpid)
    sc = screen(f, starts, block, p, settings)
    events = _flag_events(FixCache(f), starts, sc, p["last_flags"])
    job = BatchJob(book, state.rules, f, block, bpid, p, sc.carry, settings, events)
    job.run(np.flatnonzero(sc.flags == 0))
    new_persons = persons.replace(bpid, job.carry)
    new_rules = state.rules.replace(job.rules_dropped, job.rules_new) if job.rules_new else state.rules
    flags = sc.flags if order is None else np.empty_like(sc.flags)
    if order is not None:
        flags[order] = sc.flags
    events.sort(key=Event.sort_key)
    return BatchResult(State(new_persons, new_rules), events, flags)


def sweep_signal(
    state: State, now: float, settings: Settings = DEFAULT_SETTINGS
) -> tuple[State, list[Event]]:
    """Clock-driven signal loss: persons with no accepted fix for `signal_loss_s` before `now`.

    Call it from a scheduler (e.g. every minute); a gap inside an uploaded batch is found by judge_batch.
    """
    c = state.persons.cols
    with np.errstate(invalid="ignore"):
        due = np.flatnonzero(~c["lost"] & (now - c["seen_t"] > settings.signal_loss_s))
    events = [
        Event(
            EventKind.SIGNAL_LOST,
            int(c["pid"][i]),
            float(c["seen_t"][i]) + settings.signal_loss_s,
            fixes=ring_last(c, i, int(c["pid"][i])),
        )
        for i in due
    ]
    cols = dict(c)
    cols["lost"] = c["lost"].copy()
    cols["lost"][due] = True
    persons = Table(state.persons.spec, state.persons.key, cols, state.persons.width)
    return State(persons, state.rules), events


def judge_person(
    person_id: int,
    fences: PersonFences,
    person_state: PersonState | None,
    fixes: FixBatch,
    settings: Settings = DEFAULT_SETTINGS,
    book: FenceBook | None = None,
) -> tuple[PersonState, list[Event], np.ndarray]:
    """One person's upload: the convenience form of judge_batch for an endpoint that stores PersonState.

    `book`, when given, is `FenceBook({person_id: fences})` kept by the caller while the fences stay the same.
    """
    if len(fixes) and not np.all(fixes.person == person_id):
        raise ValueError("every fix must belong to person_id")
    state = State.from_persons([person_state] if person_state else [], settings.proof_fixes - 1)
    res = judge_batch(book or FenceBook({person_id: fences}), state, fixes, settings)
    new = res.state.person(person_id) or PersonState(person_id)
    return new, res.events, res.flags


def _order(person: np.ndarray, t: np.ndarray) -> np.ndarray | None:
    """None when fixes already come as one time-ordered block per person (the usual upload stream)."""
    change = person[1:] != person[:-1]
    if not np.any((t[1:] < t[:-1]) & ~change):
        heads = person[np.concatenate([[True], change])]
        if len(np.unique(heads)) == len(heads):
            return None
    order = np.argsort(person, kind="stable")  # interleaved uploads: each person's fixes still in time order
    ts, ps = t[order], person[order]
    if not np.any((ts[1:] < ts[:-1]) & (ps[1:] == ps[:-1])):
        return order
    return np.lexsort((t, person))


def _flag_events(fixes: FixCache, starts: np.ndarray, sc: Screened, last_flags: np.ndarray) -> list[Event]:
    """One event per flag episode: a reason appearing on a fix when the person's previous fix lacked it."""
    prev = np.concatenate([[0], sc.flags[:-1]])
    prev[starts] = last_flags
    fresh = sc.flags & ~prev
    rows = np.flatnonzero(fresh)
    fixes.prefetch(rows)
    events = []
    for i, bits in zip(rows.tolist(), fresh[rows].tolist(), strict=True):
        fix = fixes(i)
        for name in flag_names(bits):
            proof = (sc.teleport_from[i], fix) if name == "teleport" else (fix,)
            events.append(Event(EventKind.FIX_FLAGGED, fix.person_id, fix.t, reason=name, fixes=proof))
    return events
