"""Deterministic test data: a county-like boundary around Hangzhou and realistic GPS tracks."""

from __future__ import annotations

import math

import numpy as np
import shapely
from geographiclib.geodesic import Geodesic
from shapely.geometry import LineString, Point, Polygon

from geofence import Area, Circle, FixBatch
from geofence.earth import metres_per_degree

LON0, LAT0 = 120.15, 30.27  # Hangzhou
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z = 08:00 in Asia/Shanghai
KX, KY = metres_per_degree(LAT0)
WGS84 = Geodesic.WGS84


def county_polygon(vertices: int = 600, radius_m: float = 20_000.0, seed: int = 7) -> Polygon:
    """A wiggly outline: a few lobes, bays and survey noise, like a county border, with `vertices` points."""
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    r = radius_m * (
        1
        + 0.15 * np.sin(3 * ang + 1)
        + 0.07 * np.sin(11 * ang + 2)
        + 0.03 * np.sin(37 * ang)
        + 0.004 * rng.standard_normal(vertices)
    )
    poly = Polygon(np.c_[LON0 + r * np.cos(ang) / KX, LAT0 + r * np.sin(ang) / KY])
    assert poly.is_valid
    return poly


def offset(
    lon: float | np.ndarray, lat: float | np.ndarray, east_m: np.ndarray | float, north_m: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Move by metres east/north (local flat approximation: fine for test tracks)."""
    kx, ky = metres_per_degree(float(np.mean(lat)))
    return np.asarray(lon) + np.asarray(east_m) / kx, np.asarray(lat) + np.asarray(north_m) / ky


def to_plane(poly: Polygon) -> Polygon:
    return shapely.transform(poly, lambda c: (c - (LON0, LAT0)) * (KX, KY))


def from_plane(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return LON0 + np.asarray(x) / KX, LAT0 + np.asarray(y) / KY


def boundary_walk(poly: Polygon, n: int, step_m: float, start_frac: float = 0.0) -> tuple[np.ndarray, ...]:
    """Points along the boundary (true positions of someone walking along the border)."""
    ring = LineString(to_plane(poly).exterior.coords)
    d = (start_frac * ring.length + step_m * np.arange(n)) % ring.length
    pts = shapely.line_interpolate_point(ring, d)
    xy = shapely.get_coordinates(pts)
    return from_plane(xy[:, 0], xy[:, 1])


def inward_point(poly: Polygon, frac: float, depth_m: float) -> tuple[float, float]:
    """A point `depth_m` inside (negative: outside) the boundary at fraction `frac` of its length."""
    plane = to_plane(poly)
    ring = LineString(plane.exterior.coords)
    a = ring.interpolate(frac * ring.length)
    b = ring.interpolate((frac * ring.length + 1.0) % ring.length)
    tx, ty = b.x - a.x, b.y - a.y
    norm = math.hypot(tx, ty)
    nx, ny = -ty / norm, tx / norm  # left normal
    p = Point(a.x + nx * depth_m, a.y + ny * depth_m)
    if plane.contains(p) != (depth_m > 0):
        nx, ny = -nx, -ny
    lon, lat = from_plane(np.array([a.x + nx * depth_m]), np.array([a.y + ny * depth_m]))
    return float(lon[0]), float(lat[0])


def drift(
    rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray, accuracy_m: float, within: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Measured positions: true positions plus GPS error. With `within`, the error never exceeds the reported
    accuracy (a receiver whose accuracy estimate holds); otherwise 2-D normal with 68 % inside it."""
    n = len(lon)
    if within:
        ang, rad = rng.uniform(0, 2 * np.pi, n), accuracy_m * np.sqrt(rng.uniform(0, 0.98, n))
        return offset(lon, lat, rad * np.cos(ang), rad * np.sin(ang))
    sigma = accuracy_m / 1.51
    return offset(lon, lat, rng.normal(0, sigma, n), rng.normal(0, sigma, n))


def batch(
    person: int | np.ndarray,
    t: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    acc: float | np.ndarray,
    **kw: object,
) -> FixBatch:
    """Fixes received 30 s after they were measured unless told otherwise."""
    kw.setdefault("received_at", np.asarray(t) + 30.0)
    return FixBatch.from_arrays(person, t, lat, lon, acc, **kw)  # type: ignore[arg-type]


def ref_signed_distance(shape: Circle | Area, lon: float, lat: float) -> float:
    """Independent reference: metres on WGS84, negative inside. For areas, the nearest point of each lon/lat
    edge is found in a plane centred on the fix itself (exact to first order there), then measured with
    geographiclib."""
    if isinstance(shape, Circle):
        return WGS84.Inverse(lat, lon, shape.lat, shape.lon)["s12"] - shape.radius_m
    g = shape.geometry
    kx, ky = metres_per_degree(lat)
    best = math.inf
    rings = [p.exterior for p in getattr(g, "geoms", [g])] + [
        i for p in getattr(g, "geoms", [g]) for i in p.interiors
    ]
    for ring in rings:
        c = np.asarray(ring.coords)
        ax, ay = (c[:-1, 0] - lon) * kx, (c[:-1, 1] - lat) * ky
        bx, by = (c[1:, 0] - lon) * kx, (c[1:, 1] - lat) * ky
        dx, dy = bx - ax, by - ay
        u = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-300), 0, 1)
        fx, fy = ax + u * dx, ay + u * dy
        for i in np.argsort(np.hypot(fx, fy))[:3]:
            best = min(best, WGS84.Inverse(lat, lon, lat + fy[i] / ky, lon + fx[i] / kx)["s12"])
    return -best if shapely.contains_xy(g, lon, lat) else best
