"""Judgement of single fixes against zones: exactness near edges, rasters, invariances."""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.affinity
from geofence_testkit import LAT0, LON0, T0, batch, county_polygon, inward_point, offset, ref_signed_distance
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon

from geofence import Area, Circle, FenceBook, PersonFences, Role, State, Zone, judge_batch
from geofence.book import FenceBook as _Book
from geofence.classify import IN, OUT, UNSURE, classify
from geofence.shapes import compile_shape


def ref_verdict(s: float, r: float, m: float) -> int | None:
    """The exact rule; None when a threshold is within a centimetre (either answer is right)."""
    tol = 0.01 + 1e-6 * abs(s)
    if abs(s + r - m) < tol or abs(s - r - m) < tol:
        return None
    return IN if s + r <= m else OUT if s - r >= m else UNSURE


def engine_verdicts(
    shape: Circle | Area, lon: np.ndarray, lat: np.ndarray, r: np.ndarray, m: float
) -> np.ndarray:
    book = FenceBook({1: PersonFences((Zone("z", Role.ALLOWED, shape, margin_m=m),))})
    z = np.zeros(len(lon), dtype=np.int64)
    return classify(book.shapes, z, lon, lat, r, np.full(len(lon), float(m)))


COUNTY = county_polygon()
HEXAGON = Polygon([offset(LON0, LAT0, 120 * math.cos(a), 90 * math.sin(a)) for a in np.linspace(0, 6, 6)])
L_SHAPE = Polygon(
    [offset(LON0, LAT0, x, y) for x, y in [(0, 0), (300, 0), (300, 100), (100, 100), (100, 250), (0, 250)]]
)


def check_against_reference(shape: Circle | Area, pts: list[tuple[float, float, float]], m: float) -> int:
    lon, lat, r = (np.array(v) for v in zip(*pts, strict=True))
    got = engine_verdicts(shape, lon, lat, r, m)
    checked = 0
    for i in range(len(pts)):
        want = ref_verdict(ref_signed_distance(shape, lon[i], lat[i]), r[i], m)
        if want is not None:
            checked += 1
            assert got[i] == want, (i, lon[i], lat[i], r[i], m, got[i], want)
    return checked


def ring_points(
    rng: np.random.Generator, poly: Polygon, n: int, spread_m: float
) -> list[tuple[float, float, float]]:
    """Points scattered around the border with accuracies comparable to their distance from it."""
    out = []
    for _ in range(n):
        lon, lat = inward_point(poly, rng.uniform(), rng.uniform(-spread_m, spread_m))
        out.append((lon, lat, float(rng.choice([3.0, 10.0, 25.0, 60.0, 150.0]) * rng.uniform(0.8, 1.2))))
    return out


def test_areas_match_the_ellipsoidal_reference_near_the_border() -> None:
    rng = np.random.default_rng(1)
    checked = 0
    for poly, spread in ((COUNTY, 400.0), (HEXAGON, 150.0), (L_SHAPE, 150.0)):
        for m in (0.0, 40.0):
            checked += check_against_reference(Area(poly), ring_points(rng, poly, 150, spread), m)
    assert checked > 800


def test_holes_and_multipolygons_match_the_reference() -> None:
    rng = np.random.default_rng(6)
    donut = Polygon(HEXAGON.buffer(0.004).exterior.coords, [HEXAGON.exterior.coords])
    pair = MultiPolygon([HEXAGON, shapely.affinity.translate(L_SHAPE, 0.01, 0.0)])
    for shape, polys in ((donut, [Polygon(donut.exterior), HEXAGON]), (pair, list(pair.geoms))):
        pts = [p for poly in polys for p in ring_points(rng, poly, 80, 120.0)]
        assert check_against_reference(Area(shape), pts, 25.0) > 100


def test_points_exactly_at_threshold_distance_use_the_geodesic() -> None:
    """Fixes whose accuracy radius equals their distance to the border within the plane's error are settled
    by geopy: a circle of radius exactly the distance (minus 5 cm) is IN, plus 5 cm is UNSURE."""
    rng = np.random.default_rng(2)
    pts_in, pts_uns = [], []
    for _ in range(40):
        lon, lat = inward_point(COUNTY, rng.uniform(), rng.uniform(20, 300))
        d = -ref_signed_distance(Area(COUNTY), lon, lat)
        pts_in.append((lon, lat, d - 0.05))
        pts_uns.append((lon, lat, d + 0.05))
    for pts, want in ((pts_in, IN), (pts_uns, UNSURE)):
        lon, lat, r = (np.array(v) for v in zip(*pts, strict=True))
        assert (engine_verdicts(Area(COUNTY), lon, lat, r, 0.0) == want).all()


def test_circles_match_the_geodesic_reference() -> None:
    rng = np.random.default_rng(3)
    shape = Circle(LON0, LAT0, 150.0)
    pts = []
    for _ in range(400):
        d, a = rng.uniform(0, 400), rng.uniform(0, 2 * math.pi)
        lon, lat = offset(LON0, LAT0, d * math.cos(a), d * math.sin(a))
        pts.append((float(lon), float(lat), float(rng.uniform(3, 120))))
    assert check_against_reference(shape, pts, 0.0) > 350
    assert check_against_reference(shape, pts, 100.0) > 350


def test_far_away_and_huge_accuracy_fixes() -> None:
    lon = np.array([LON0 + 3.0, LON0, 121.0, LON0 + 0.6])
    lat = np.array([LAT0, LAT0 - 2.0, 29.0, LAT0])
    r = np.array([10.0, 10.0, 50_000.0, 30_000.0])
    v = engine_verdicts(Area(COUNTY), lon, lat, r, 0.0)
    assert list(v[:3]) == [OUT, OUT, OUT] and v[3] == UNSURE  # 3: the circle reaches back into the county


def test_raster_bounds_hold_everywhere() -> None:
    cs = compile_shape(Area(COUNTY))
    g = cs.grid
    assert g is not None
    rng = np.random.default_rng(4)
    hx, hy = cs.near_half
    x, y = rng.uniform(-hx, hx, 20_000), rng.uniform(-hy, hy, 20_000)
    d = shapely.distance(cs.plane_border, shapely.points(x, y))
    s = np.where(shapely.contains_xy(cs.plane_area, x, y), -d, d)
    gx0, gy0 = (g.lon0 - cs.lon0) * cs.kx, (g.lat0 - cs.lat0) * cs.ky
    cell = ((y - gy0) // g.cell_m).astype(int) * g.nx + ((x - gx0) // g.cell_m).astype(int)
    lo, hi = g.bounds[cell, 0] * g.unit_m, g.bounds[cell, 1] * g.unit_m
    assert (lo <= s - cs.eps * np.abs(s)).all() and (hi >= s + cs.eps * np.abs(s)).all()
    # Tight enough to decide most fixes: slack grows with the distance only where that is harmless.
    assert (hi - lo <= 2 * np.abs(s) + 6 * g.cell_m).all()


@settings(max_examples=12, deadline=None)
@given(start=st.integers(0, 599), reverse=st.booleans())
def test_judgement_ignores_ring_orientation_and_start_vertex(start: int, reverse: bool) -> None:
    coords = list(COUNTY.exterior.coords)[:-1]
    coords = coords[start:] + coords[:start]
    if reverse:
        coords.reverse()
    variant = Polygon(coords)
    rng = np.random.default_rng(5)
    pts = ring_points(rng, COUNTY, 300, 300.0)
    lon, lat, r = (np.array(v) for v in zip(*pts, strict=True))
    assert (
        engine_verdicts(Area(variant), lon, lat, r, 0.0) == engine_verdicts(Area(COUNTY), lon, lat, r, 0.0)
    ).all()
    # ... and so do the events of a track crossing the border there and back.
    track_lon, track_lat = zip(
        *[inward_point(COUNTY, 0.3, d) for d in [*range(300, -600, -60), *range(-600, 300, 60)]], strict=True
    )
    t = T0 + 30.0 * np.arange(len(track_lon))
    fixes = batch(1, t, np.array(track_lat), np.array(track_lon), 15.0)
    events = []
    for poly in (COUNTY, variant):
        book = _Book({1: PersonFences((Zone("county", Role.ALLOWED, Area(poly)),))})
        events.append([e.to_json() for e in judge_batch(book, State.empty(), fixes).events])
    assert events[0] == events[1] and [e["kind"] for e in events[0]] == ["left_allowed_area", "returned"]


@settings(max_examples=40, deadline=None)
@given(frac=st.floats(0, 1), depth=st.floats(200, 8000), accuracy=st.floats(1, 50), n=st.integers(1, 30))
def test_a_fix_far_inside_with_small_accuracy_never_breaches(
    frac: float, depth: float, accuracy: float, n: int
) -> None:
    lon, lat = inward_point(COUNTY, frac, depth)
    assume(-ref_signed_distance(Area(COUNTY), lon, lat) >= 200)  # the border may bend back towards the point
    v = engine_verdicts(Area(COUNTY), np.full(n, lon), np.full(n, lat), np.full(n, accuracy * 2), 0.0)
    assert (v == IN).all()
    rng = np.random.default_rng(int(frac * 1e6))
    jl, jt = offset(lon, lat, rng.normal(0, 3, n), rng.normal(0, 3, n))
    fixes = batch(1, T0 + 60.0 * np.arange(n), jt, jl, accuracy)
    book = _Book({1: PersonFences((Zone("county", Role.ALLOWED, Area(COUNTY)),))})
    assert judge_batch(book, State.empty(), fixes).events == []
