"""State between batches: splitting a batch changes nothing, and per-person JSON storage round-trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from geofence_testkit import LAT0, LON0, T0, batch, county_polygon, drift, inward_point, offset
from hypothesis import given, settings
from hypothesis import strategies as st

from geofence import (
    Area,
    Circle,
    FenceBook,
    FixBatch,
    PersonFences,
    PersonState,
    Role,
    Schedule,
    Settings,
    Severity,
    State,
    Zone,
    batch_job,
    judge_batch,
    judge_person,
    sweep_signal,
)

COUNTY = county_polygon()
CURFEW = Schedule.from_json({"windows": [{"start": "22:00", "end": "06:00"}]})
SETTINGS = Settings(confirm_fixes=3, confirm_dwell_s=300.0, signal_loss_s=900.0, frozen_run=6, proof_fixes=4)


def fences(pid: int, home: tuple[float, float]) -> PersonFences:
    victim = offset(home[0], home[1], 600.0, 0.0)
    return PersonFences(
        (
            Zone("county", Role.ALLOWED, Area(COUNTY)),
            Zone("home", Role.ALLOWED, Circle(home[0], home[1], 100.0), schedule=CURFEW),
            Zone(
                "victim",
                Role.FORBIDDEN,
                Circle(float(victim[0]), float(victim[1]), 30.0),
                Severity.HIGH,
                margin_m=100,
            ),
        ),
        tz="Asia/Shanghai",
    )


def stream(
    seed: int, persons: int = 4, per_person: int = 60, uneven: bool = False
) -> tuple[FenceBook, FixBatch]:
    """Persons wandering, leaving the county, visiting the forbidden place, going quiet, with the odd
    mock or teleporting fix, interleaved in time order as uploads would arrive. `uneven`: every third
    person has no curfewed home, so persons have different numbers of zones."""
    rng = np.random.default_rng(seed)
    book_fences, cols = {}, []
    for pid in range(persons):
        frac = rng.uniform()
        home = inward_point(COUNTY, frac, rng.uniform(100, 800))
        book_fences[pid] = fences(pid, home)
        if uneven and pid % 3 == 2:
            book_fences[pid] = PersonFences(book_fences[pid].zones[::2], tz=book_fences[pid].tz)
        gaps = rng.choice([60.0, 60.0, 60.0, 1200.0], per_person, p=[0.5, 0.3, 0.15, 0.05])
        t = T0 + 13 * 3600 + rng.uniform(0, 3600) + np.cumsum(gaps)
        depth = np.cumsum(rng.normal(0, 60, per_person)) + rng.uniform(-300, 600)
        track = [inward_point(COUNTY, frac, d) for d in depth]
        lon, lat = (np.array(v) for v in zip(*track, strict=True))
        if pid % 2:  # walk to the forbidden place and back
            k = per_person // 2
            east = np.r_[np.linspace(0, 600, k), np.linspace(600, 0, per_person - k)]
            lon, lat = offset(np.full(per_person, home[0]), np.full(per_person, home[1]), east, 0.0)
        acc = np.exp(rng.normal(np.log(12), 0.5, per_person))
        lon, lat = drift(rng, lon, lat, 1.0)
        mock = rng.uniform(size=per_person) < 0.03
        lat = np.where(rng.uniform(size=per_person) < 0.02, lat + 1.5, lat)  # teleports
        cols.append((np.full(per_person, pid), t, lat, lon, acc, mock))
    p, t, lat, lon, acc, mock = (np.concatenate(c) for c in zip(*cols, strict=True))
    order = np.argsort(t, kind="stable")
    fixes = batch(
        p[order], t[order], lat[order], lon[order], acc[order], mock=mock[order], fix_id=np.arange(len(t))
    )
    return FenceBook(book_fences), fixes


def as_json(events: list) -> list[dict]:
    """Events in time order. (A signal loss is only discovered when the next fix arrives, so events of
    separate batches can interleave in time; each batch's own list is already in this order.)"""
    return [e.to_json() for e in sorted(events, key=lambda e: e.sort_key())]


def state_json(state: State) -> list[dict]:
    return [p.to_json() for p in state.persons_iter()]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.floats(0, 1))
def test_splitting_a_batch_in_two_gives_the_same_events(seed: int, cut: float) -> None:
    book, fixes = stream(seed)
    whole = judge_batch(book, State.empty(), fixes, SETTINGS)
    k = int(cut * len(fixes))
    first = judge_batch(book, State.empty(), fixes.take(slice(0, k)), SETTINGS)
    second = judge_batch(book, first.state, fixes.take(slice(k, None)), SETTINGS)
    assert as_json(first.events + second.events) == as_json(whole.events)
    assert np.array_equal(np.r_[first.flags, second.flags], whole.flags)
    assert state_json(second.state) == state_json(whole.state)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), persons=st.integers(1, 6))
def test_one_pass_over_all_zones_judges_as_zone_by_zone(seed: int, persons: int) -> None:
    """Small batches (one phone's upload) are judged in one pass over all zone slots, big ones slot by
    slot; both give the same events, flags and state, also when persons have different numbers of zones."""
    book, fixes = stream(seed, persons, uneven=True)
    one_pass = judge_batch(book, State.empty(), fixes, SETTINGS)
    saved, batch_job.ONE_PASS_MAX_PAIRS = batch_job.ONE_PASS_MAX_PAIRS, 0
    try:
        by_slot = judge_batch(book, State.empty(), fixes, SETTINGS)
    finally:
        batch_job.ONE_PASS_MAX_PAIRS = saved
    assert [e.to_json() for e in one_pass.events] == [e.to_json() for e in by_slot.events]
    assert np.array_equal(one_pass.flags, by_slot.flags)
    assert state_json(one_pass.state) == state_json(by_slot.state)


def test_the_stream_exercises_every_kind_of_event() -> None:
    seen = set()
    for seed in range(6):
        book, fixes = stream(seed)
        seen |= {e.kind.value for e in judge_batch(book, State.empty(), fixes, SETTINGS).events}
    assert {
        "left_allowed_area",
        "returned",
        "entered_forbidden_place",
        "signal_lost",
        "signal_restored",
        "fix_flagged",
    } <= seen


def test_state_survives_json_storage_per_person_between_batches() -> None:
    book, fixes = stream(3)
    whole = judge_batch(book, State.empty(), fixes, SETTINGS)
    k = len(fixes) // 3
    first = judge_batch(book, State.empty(), fixes.take(slice(0, k)), SETTINGS)
    rows = {
        pid: json.dumps(first.state.person(pid).to_json()) for pid in first.state.person_ids()
    }  # "database"
    restored = State.from_persons(
        {pid: PersonState.from_json(json.loads(r)) for pid, r in rows.items()},
        ring_width=SETTINGS.proof_fixes - 1,
    )
    second = judge_batch(book, restored, fixes.take(slice(k, None)), SETTINGS)
    assert as_json(first.events + second.events) == as_json(whole.events)
    assert state_json(second.state) == state_json(whole.state)


def test_judge_person_is_the_single_upload_form() -> None:
    book, fixes = stream(5, persons=1)
    whole = judge_batch(book, State.empty(), fixes, SETTINGS)
    person_state, events = None, []
    for chunk in np.array_split(np.arange(len(fixes)), 4):  # four uploads
        person_state, evs, _ = judge_person(
            0, _fences_of_person_0(), person_state, fixes.take(chunk), SETTINGS
        )
        events += evs
    assert as_json(events) == as_json(whole.events)
    assert person_state == whole.state.person(0)
    with pytest.raises(ValueError, match="person_id"):
        judge_person(9, PersonFences(()), None, fixes, SETTINGS)


def _fences_of_person_0() -> PersonFences:
    """The fences stream(5) gave person 0 (its generator is deterministic)."""
    rng = np.random.default_rng(5)
    frac = rng.uniform()
    return fences(0, inward_point(COUNTY, frac, rng.uniform(100, 800)))


def test_persons_not_in_the_batch_keep_their_state_and_fences_can_change() -> None:
    book, fixes = stream(7, persons=3)
    res = judge_batch(book, State.empty(), fixes, SETTINGS)
    only_one = fixes.take(np.flatnonzero(fixes.person == 1))
    later = FixBatch.from_arrays(
        1, only_one.t[-1] + 60, only_one.lat[-1], only_one.lon[-1], 10.0, received_at=only_one.t[-1] + 90
    )
    smaller = FenceBook({1: PersonFences((Zone("county", Role.ALLOWED, Area(COUNTY)),))})  # zones removed
    after = judge_batch(smaller, res.state, later, SETTINGS)
    assert after.state.person(0) == res.state.person(0) and after.state.person(2) == res.state.person(2)
    assert set(after.state.person(1).rules) == {"county"}


def test_persons_without_fences_are_still_screened_and_tracked() -> None:
    t = T0 + 60.0 * np.arange(5)
    res = judge_batch(
        FenceBook({}),
        State.empty(),
        batch(42, t, np.full(5, LAT0), np.full(5, LON0), 10.0, mock=[0, 0, 1, 0, 0]),
    )
    assert [e.reason for e in res.events] == ["mock_location"]
    assert res.state.person(42).seen_t == t[-1]
    state, lost = sweep_signal(res.state, now=t[-1] + 601)
    assert [e.kind.value for e in lost] == ["signal_lost"] and state.person(42).signal_lost


def test_empty_batches_and_bad_batches() -> None:
    empty = FixBatch.from_arrays([], [], [], [], [], received_at=[])
    res = judge_batch(FenceBook({}), State.empty(), empty)
    assert res.events == [] and len(res.flags) == 0
    from geofence import FixBatchError

    with pytest.raises(FixBatchError, match="lat has 2 values for 3 fixes"):
        FixBatch.from_arrays([1, 1, 1], [1.0, 2.0, 3.0], [30.0, 30.0], [120.0] * 3, 10.0, received_at=5.0)
    with pytest.raises(FixBatchError, match="finite timestamp"):
        FixBatch.from_arrays(1, np.nan, 30.0, 120.0, 10.0, received_at=5.0)
    with pytest.raises(FixBatchError, match="lacks 't'"):
        FixBatch.from_records([{"person_id": 1, "lat": 30.0, "lon": 120.0, "accuracy_m": 5}], received_at=1.0)
    rec = FixBatch.from_records(
        [{"person_id": 1, "t": 10.0, "lat": None, "lon": 120.0, "accuracy_m": 5}], received_at=11.0
    )
    assert np.isnan(rec.lat[0])


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        Settings(confirm_fixes=None, confirm_dwell_s=None)
    with pytest.raises(ValueError):
        Settings(signal_loss_s=-1.0)
