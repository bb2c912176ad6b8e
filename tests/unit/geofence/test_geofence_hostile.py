"""Hostile values at the library's edge: offsets cost per fix, not per hour spanned; malformed GeoJSON is a
ZoneError naming the field, never another exception."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geofence import ZoneError, zone_from_geojson
from geofence import schedule as sched
from geofence.geojson import check_area_structure

YEAR_1 = datetime(1, 1, 1, tzinfo=UTC).timestamp()
YEAR_9999 = datetime(9999, 12, 31, tzinfo=UTC).timestamp()


def _direct(tz: str, t: np.ndarray) -> list[float]:
    return [x + sched._offset(sched._zone(tz), int(np.floor(x))) for x in t.tolist()]


def test_offsets_are_read_per_fix_not_per_span(monkeypatch):
    calls = []
    real = sched._offset
    monkeypatch.setattr(sched, "_offset", lambda tz, t: calls.append(t) or real(tz, t))
    local = sched.local_seconds("America/New_York", np.array([YEAR_1, YEAR_9999]))
    assert len(calls) < 100  # the old sampling read 14.6 million offsets for these two fixes
    assert local.tolist() == _direct("America/New_York", np.array([YEAR_1, YEAR_9999]))


@settings(max_examples=200, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    tz=st.sampled_from(["America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Lord_Howe"]),
    times=st.lists(st.floats(min_value=1.6e9, max_value=1.9e9), min_size=1, max_size=40),
    clustered=st.booleans(),
)
def test_local_seconds_equal_each_fix_read_on_its_own(tz, times, clustered):
    t = np.array(sorted(times))
    if clustered:  # fixes a minute apart around each time, across DST changes
        t = np.concatenate([t, t + 60.0, t + 3600.0 * 5])
    assert sched.local_seconds(tz, t).tolist() == _direct(tz, t)


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        ({"type": "Polygon"}, "g.coordinates"),
        ({"type": "Polygon", "coordinates": []}, "g.coordinates"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "g.coordinates[0]"),
        ({"type": "MultiPolygon", "coordinates": [[[1, 2]]]}, "g.coordinates[0][0][0]"),
        ({"type": "MultiPolygon"}, "g.coordinates"),
        ({"type": "Point", "coordinates": [0, 0]}, "g.type"),
        ([1, 2], "g"),
    ],
)
def test_malformed_area_structure_is_named(geometry, field):
    with pytest.raises(ZoneError) as refused:
        check_area_structure(geometry, "g")
    assert refused.value.path == field


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
GEOMETRY = st.fixed_dictionaries(
    {"type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString"])},
    optional={"coordinates": JSON},
)
PROPERTIES = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["allowed", "forbidden", "x"]) | JSON,
        "radius_m": JSON,
        "margin_m": JSON,
        "schedule": JSON,
        "severity": JSON,
        "name": JSON,
    },
)


@settings(max_examples=400, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(geometry=GEOMETRY | JSON, properties=PROPERTIES | JSON)
def test_any_malformed_feature_is_a_zone_error(geometry, properties):
    feature = {"type": "Feature", "id": "z", "geometry": geometry, "properties": properties}
    with contextlib.suppress(ZoneError):
        zone_from_geojson(feature)
    with contextlib.suppress(ZoneError):
        check_area_structure(geometry, "geometry")
