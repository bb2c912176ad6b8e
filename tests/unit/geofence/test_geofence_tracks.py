"""Realistic tracks against a county boundary with hundreds of vertices: what becomes an event, what not."""

from __future__ import annotations

import numpy as np
import pytest
from geofence_testkit import (
    LAT0,
    LON0,
    T0,
    batch,
    boundary_walk,
    county_polygon,
    drift,
    inward_point,
    offset,
    ref_signed_distance,
)

from geofence import (
    Area,
    Circle,
    EventKind,
    FenceBook,
    Flag,
    PersonFences,
    Role,
    Schedule,
    Settings,
    Severity,
    State,
    Zone,
    judge_batch,
    sweep_signal,
)

COUNTY = county_polygon()
COUNTY_ZONE = Zone("county", Role.ALLOWED, Area(COUNTY), name="Test county")
SHANGHAI = "Asia/Shanghai"
LOCAL_DAY = T0 - 8 * 3600  # 2026-01-01 00:00 in Shanghai (T0 is 08:00 there)


def county_book(*extra: Zone) -> FenceBook:
    return FenceBook({1: PersonFences((COUNTY_ZONE, *extra), tz=SHANGHAI)})


def kinds(events: list) -> list[str]:
    return [e.kind.value for e in events]


def test_fifty_metre_drift_along_the_boundary_never_breaches() -> None:
    """Four hours walking the county line with 50 m accuracy: receivers whose error stays within the
    reported accuracy, and receivers with normal errors (a third of the fixes off by more)."""
    rng = np.random.default_rng(11)
    lon, lat = boundary_walk(COUNTY, 1500, 7.0, start_frac=0.1)
    t = T0 + 10.0 * np.arange(len(lon))
    for within in (True, False):
        mlon, mlat = drift(rng, lon, lat, 50.0, within=within)
        res = judge_batch(county_book(), State.empty(), batch(1, t, mlat, mlon, 50.0))
        assert res.events == [] and (res.flags == 0).all()
    # Sanity: the walk does straddle the line, with plenty of fixes whose centre is outside.
    outside = [
        ref_signed_distance(COUNTY_ZONE.shape, a, b) > 0 for a, b in zip(mlon[:300], mlat[:300], strict=True)
    ]
    assert 0.2 < np.mean(outside) < 0.8


def exit_track(step_s: float = 15.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From 1.5 km inside, straight out across the border to 1.5 km outside at 1.4 m/s."""
    depth = np.arange(1500.0, -1500.0, -1.4 * step_s)
    lon, lat = zip(*(inward_point(COUNTY, 0.62, d) for d in depth), strict=True)
    return T0 + step_s * np.arange(len(depth)), np.array(lon), np.array(lat)


def test_a_clear_exit_breaches_after_n_fixes() -> None:
    t, lon, lat = exit_track()
    mlon, mlat = drift(np.random.default_rng(12), lon, lat, 12.0)
    res = judge_batch(county_book(), State.empty(), batch(1, t, mlat, mlon, 12.0))
    assert kinds(res.events) == ["left_allowed_area"]
    ev = res.events[0]
    # Expected from the exact rule: the first three consecutive fixes whose 24 m circle is wholly outside.
    out = np.array(
        [ref_signed_distance(COUNTY_ZONE.shape, a, b) >= 24.0 for a, b in zip(mlon, mlat, strict=True)]
    )
    first = next(i for i in range(len(out) - 2) if out[i : i + 3].all())
    assert (ev.since, ev.at) == (t[first], t[first + 2])
    assert ev.zone_id == "county" and ev.person_id == 1
    assert [f.t for f in ev.fixes] == list(t[first : first + 3])
    assert all(ref_signed_distance(COUNTY_ZONE.shape, f.lon, f.lat) >= 24 for f in ev.fixes)


def test_a_clear_exit_breaches_after_the_dwell_and_the_return_is_confirmed_too() -> None:
    t, lon, lat = exit_track(step_s=10.0)
    back = t[-1] + 10.0 * np.arange(1, len(t) + 1)
    t_all, lon_all, lat_all = np.r_[t, back], np.r_[lon, lon[::-1]], np.r_[lat, lat[::-1]]
    settings = Settings(confirm_fixes=None, confirm_dwell_s=120.0)
    res = judge_batch(county_book(), State.empty(), batch(1, t_all, lat_all, lon_all, 8.0), settings)
    assert kinds(res.events) == ["left_allowed_area", "returned"]
    left, returned = res.events
    assert 120.0 <= left.at - left.since < 130.0
    assert 120.0 <= returned.at - returned.since < 130.0
    assert (
        len(left.fixes) == settings.proof_fixes
        and left.fixes[0].t == left.since
        and left.fixes[-1].t == left.at
    )
    # Nothing but the last fixes before confirmation: a single outside fix never confirms.
    single = judge_batch(county_book(), State.empty(), batch(1, t_all[:1], lat_all[-1:], lon_all[-1:], 8.0))
    assert single.events == []


def test_indoor_signal_loss_is_reported_as_loss_not_as_a_breach() -> None:
    """At home 150 m inside the border; walking indoors the accuracy degrades and the fixes scatter (some
    centres land outside the county), then the phone goes quiet for 45 minutes."""
    rng = np.random.default_rng(13)
    home = inward_point(COUNTY, 0.35, 150.0)
    t1 = T0 + 60.0 * np.arange(60)
    lon1, lat1 = drift(rng, np.full(60, home[0]), np.full(60, home[1]), 10.0)
    acc2 = np.array([60.0, 120.0, 250.0, 400.0, 600.0])
    t2 = t1[-1] + 60.0 * np.arange(1, 6)
    lon2, lat2 = drift(rng, np.full(5, home[0]), np.full(5, home[1]), 1.0, within=False)
    lon2, lat2 = offset(lon2, lat2, acc2 * rng.uniform(-1.2, 1.2, 5), acc2 * rng.uniform(-1.2, 1.2, 5))
    t3 = t2[-1] + 45 * 60 + 60.0 * np.arange(30)
    lon3, lat3 = drift(rng, np.full(30, home[0]), np.full(30, home[1]), 10.0)
    whole = batch(
        1,
        np.r_[t1, t2, t3],
        np.r_[lat1, lat2, lat3],
        np.r_[lon1, lon2, lon3],
        np.r_[[10.0] * 60, acc2, [10.0] * 30],
    )
    res = judge_batch(county_book(), State.empty(), whole)
    assert kinds(res.events) == ["signal_lost", "signal_restored"]
    lost, restored = res.events
    assert lost.at == t2[-1] + 600.0 and lost.fixes[0].t == t2[-1]
    assert restored.at == t3[0]
    # The same with a clock-driven sweep while the phone is silent: loss once, then the restore.
    first = judge_batch(county_book(), State.empty(), whole.take(slice(0, 65)))
    state, swept = sweep_signal(first.state, now=t2[-1] + 700.0)
    assert kinds(swept) == ["signal_lost"] and swept[0].at == lost.at
    assert sweep_signal(state, now=t2[-1] + 900.0)[1] == []  # already lost: not again
    rest = judge_batch(county_book(), state, whole.take(slice(65, None)))
    assert kinds(rest.events) == ["signal_restored"]


def curfew_book() -> FenceBook:
    curfew = Schedule.from_json({"windows": [{"start": "22:00", "end": "06:00"}]})
    home = Zone("home", Role.ALLOWED, Circle(LON0, LAT0, 120.0), schedule=curfew)
    return FenceBook(
        {1: PersonFences((COUNTY_ZONE, home), tz=SHANGHAI), 2: PersonFences((COUNTY_ZONE, home), tz=SHANGHAI)}
    )


def test_curfew_violation_and_the_return_home() -> None:
    rng = np.random.default_rng(14)
    t = LOCAL_DAY + 21 * 3600 + 60.0 * np.arange(4 * 60)  # 21:00 - 01:00 local, a fix a minute
    restaurant = offset(LON0, LAT0, 2500.0, 1200.0)
    at_home = t >= LOCAL_DAY + 23.75 * 3600
    lon = np.where(at_home, LON0, restaurant[0])
    lat = np.where(at_home, LAT0, restaurant[1])
    mlon, mlat = drift(rng, lon, lat, 10.0)
    res = judge_batch(curfew_book(), State.empty(), batch(1, t, mlat, mlon, 10.0))
    assert kinds(res.events) == ["curfew_broken", "returned"]
    broken, back = res.events
    ten_pm = LOCAL_DAY + 22 * 3600
    assert broken.zone_id == "home" and broken.since == ten_pm and broken.at == ten_pm + 120
    assert back.zone_id == "home" and back.since >= LOCAL_DAY + 23.75 * 3600 and back.at == back.since + 120


def test_a_night_at_home_is_quiet_and_a_breach_ends_when_the_window_closes() -> None:
    rng = np.random.default_rng(15)
    t = LOCAL_DAY + 5 * 3600 + 60.0 * np.arange(120)  # 05:00 - 07:00
    home_lon, home_lat = drift(rng, np.full(120, LON0), np.full(120, LAT0), 15.0)
    out_lon, out_lat = drift(rng, *offset(np.full(120, LON0), np.full(120, LAT0), 3000.0, 0.0), 15.0)
    fixes = batch(
        np.r_[[1] * 120, [2] * 120], np.r_[t, t], np.r_[home_lat, out_lat], np.r_[home_lon, out_lon], 15.0
    )
    res = judge_batch(curfew_book(), State.empty(), fixes)
    assert [(e.person_id, e.kind.value) for e in res.events] == [(2, "curfew_broken"), (2, "window_closed")]
    assert res.events[1].at == LOCAL_DAY + 6 * 3600


def test_a_teleport_is_flagged_with_its_reason_and_never_judged() -> None:
    rng = np.random.default_rng(16)
    home = inward_point(COUNTY, 0.8, 2000.0)
    t = T0 + 60.0 * np.arange(30)
    lon, lat = drift(rng, np.full(30, home[0]), np.full(30, home[1]), 10.0)
    lon[10], lat[10] = 121.47, 31.23  # Shanghai, 170 km away, one minute later
    res = judge_batch(county_book(), State.empty(), batch(1, t, lat, lon, 10.0))
    assert kinds(res.events) == ["fix_flagged"]
    ev = res.events[0]
    assert ev.reason == "teleport" and [f.t for f in ev.fixes] == [t[9], t[10]]
    assert res.flags[10] == Flag.TELEPORT and (np.delete(res.flags, 10) == 0).all()
    # A journey at motorway speed is not a teleport.
    road = offset(home[0], home[1], 30.0 * 60 * np.arange(30), 0.0)
    assert (judge_batch(county_book(), State.empty(), batch(1, t, road[1], road[0], 10.0)).flags == 0).all()


def test_entering_a_forbidden_place_with_its_severity() -> None:
    victim = Zone(
        "victim-home",
        Role.FORBIDDEN,
        Circle(*offset(LON0, LAT0, 800.0, 0.0), 30.0),
        Severity.HIGH,
        margin_m=200.0,
    )
    east = np.r_[np.arange(0.0, 800.0, 20.0), np.full(10, 790.0), np.arange(790.0, 0.0, -20.0)]
    lon, lat = offset(np.full(len(east), LON0), np.full(len(east), LAT0), east, 0.0)
    t = T0 + 15.0 * np.arange(len(east))
    res = judge_batch(county_book(victim), State.empty(), batch(1, t, lat, lon, 8.0))
    assert kinds(res.events) == ["entered_forbidden_place", "returned"]
    entered = res.events[0]
    assert entered.severity == "high" and entered.zone_id == "victim-home"
    # 8 m accuracy judged at 16 m: inside once within 230 - 16 = 214 m of the centre.
    assert all(ref_signed_distance(victim.shape, f.lon, f.lat) + 16 <= 200 for f in entered.fixes)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"mock": True}, "mock_location"),
        ({"t_shift": 3600.0}, "future"),
        ({"t_shift": -3 * 86400.0}, "stale"),
        ({"acc": 0.0}, "bad_accuracy"),
        ({"acc": -5.0}, "bad_accuracy"),
        ({"acc": np.nan}, "bad_accuracy"),
        ({"acc": 5e6}, "bad_accuracy"),
        ({"lat": 91.0}, "bad_coordinates"),
        ({"lat": np.nan}, "bad_coordinates"),
    ],
)
def test_implausible_fixes_are_flagged_never_silently_accepted(change: dict, reason: str) -> None:
    t = T0 + 60.0 * np.arange(10)
    received = t + 30.0
    lon, lat = offset(np.full(10, LON0), np.full(10, LAT0), 3.0 * np.arange(10), 0.0)
    acc, mock = np.full(10, 10.0), np.zeros(10, dtype=bool)
    lat[5] = change.get("lat", lat[5])
    acc[5] = change.get("acc", acc[5])
    mock[5] = change.get("mock", False)
    t = t.copy()
    t[5] += change.get("t_shift", 0.0)
    res = judge_batch(
        county_book(), State.empty(), batch(1, t, lat, lon, acc, mock=mock, received_at=received)
    )
    flagged = [e for e in res.events if e.kind is EventKind.FIX_FLAGGED]
    assert [e.reason for e in flagged] == [reason]
    assert flagged[0].fixes[-1].fix_id == -1 and res.flags[5] != 0 and (np.delete(res.flags, 5) == 0).all()
    assert [e for e in res.events if e.kind is not EventKind.FIX_FLAGGED] == []


def test_out_of_order_and_frozen_fixes() -> None:
    t = T0 + 60.0 * np.arange(40)
    lon, lat = drift(np.random.default_rng(17), np.full(40, LON0), np.full(40, LAT0), 10.0)
    first = judge_batch(county_book(), State.empty(), batch(1, t[:20], lat[:20], lon[:20], 10.0))
    late = batch(
        1, t[[5, 20]], lat[[5, 20]], lon[[5, 20]], 10.0, received_at=t[20] + 30.0
    )  # a replayed old fix
    res = judge_batch(county_book(), first.state, late)
    assert list(res.flags) == [Flag.OUT_OF_ORDER, 0] and [e.reason for e in res.events] == ["out_of_order"]
    # Thirty bit-identical coordinates in a row: from the thirtieth on, frozen (one event per episode).
    frozen = batch(1, t, np.full(40, LAT0), np.full(40, LON0), 10.0)
    res = judge_batch(county_book(), State.empty(), frozen)
    assert [e.reason for e in res.events] == ["frozen"] and res.events[0].at == t[29]
    assert (res.flags[29:] == Flag.FROZEN).all() and (res.flags[:29] == 0).all()


def test_flags_come_back_in_input_order_and_episodes_are_not_repeated() -> None:
    t = T0 + 60.0 * np.arange(12)
    lon, lat = drift(np.random.default_rng(18), np.full(12, LON0), np.full(12, LAT0), 10.0)
    mock = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    order = np.random.default_rng(19).permutation(12)
    res = judge_batch(
        county_book(), State.empty(), batch(1, t[order], lat[order], lon[order], 10.0, mock=mock[order])
    )
    assert (res.flags == np.where(mock[order], int(Flag.MOCK_LOCATION), 0)).all()
    assert [e.at for e in res.events] == [t[1], t[6]]  # two episodes, one event each
