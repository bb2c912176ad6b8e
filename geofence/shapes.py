"""Zone shapes compiled for fast judgement: local plane, proven error bound, neighbourhood box, raster.

Compiling is cached by shape content, so thousands of persons sharing a county boundary share one compiled
shape (and one raster), and rebuilding zones from a database on every upload costs nothing after the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geofence.earth import (
    HAVERSINE_SAFETY,
    MIN_METRES_PER_DEG_LAT,
    haversine_m,
    metres_per_degree,
    plane_eps,
)
from geofence.grid import Grid, build_grid
from geofence.zones import Circle, Shape

CIRCLE, AREA = 0, 1
# Fixes within this many metres of a zone's bounding box are judged in its plane; further out, any accuracy
# circle plus margin up to this size is certainly outside (larger ones get a coarse great-circle test).
NEAR_M = 2_000.0
# Areas with at least this many vertices get a raster; smaller ones are cheap to test exactly.
GRID_MIN_VERTICES = 48
GRID_MAX_SIDE = 1024
GRID_MIN_CELL_M = 20.0


@dataclass(frozen=True, eq=False, slots=True)
class CompiledShape:
    kind: int
    lon0: float  # plane origin: the centre of the shape's bounding box
    lat0: float
    kx: float  # metres per degree at the origin
    ky: float
    eps: float  # relative plane-distance error bound inside the neighbourhood
    near_half: tuple[float, float]  # neighbourhood: |x|, |y| up to these (bbox grown by at least NEAR_M)
    far_radius_m: float  # no point of the shape is further than this from the origin (geodesic)
    radius_m: float = 0.0  # circles
    plane_area: BaseGeometry | None = None  # areas, in plane metres, prepared
    plane_border: BaseGeometry | None = None
    bbox_half: tuple[float, float] = (0.0, 0.0)  # areas: plane bounding box is [-bx, bx] x [-by, by]
    grid: Grid | None = None


def grow_box(box: tuple[float, float, float, float], metres: float) -> tuple[float, float, float, float]:
    """Grow a lon/lat box so every point outside it is at least `metres` from every point inside the original.

    A path leaving the original box crosses either `dlat` of latitude (at least MIN_METRES_PER_DEG_LAT per
    degree anywhere) or `dlon` of longitude within a band where a degree of longitude is at least kx_min.
    """
    lon_lo, lat_lo, lon_hi, lat_hi = box
    dlat = metres / MIN_METRES_PER_DEG_LAT * 1.001
    band_edge = max(abs(lat_lo - 2 * dlat), abs(lat_hi + 2 * dlat))
    kx_min = metres_per_degree(min(band_edge, 89.0))[0]
    dlon = metres / kx_min * 1.001
    return lon_lo - dlon, lat_lo - dlat, lon_hi + dlon, lat_hi + dlat


def compile_shape(shape: Shape) -> CompiledShape:
    if isinstance(shape, Circle):
        return _compile_circle(shape.lon, shape.lat, shape.radius_m)
    return _compile_area(shape.geometry.wkb)


@lru_cache(maxsize=65_536)
def _compile_circle(lon: float, lat: float, radius_m: float) -> CompiledShape:
    kx, ky = metres_per_degree(lat)
    near = grow_box(grow_box((lon, lat, lon, lat), radius_m), NEAR_M)
    half = ((near[2] - near[0]) / 2 * kx, (near[3] - near[1]) / 2 * ky)
    return CompiledShape(CIRCLE, lon, lat, kx, ky, plane_eps(lat, near[1], near[3]), half, radius_m, radius_m)


@lru_cache(maxsize=16_384)
def _compile_area(wkb: bytes) -> CompiledShape:
    geom = shapely.from_wkb(wkb)
    lon_lo, lat_lo, lon_hi, lat_hi = geom.bounds
    lon0, lat0 = (lon_lo + lon_hi) / 2, (lat_lo + lat_hi) / 2
    kx, ky = metres_per_degree(lat0)
    near = grow_box(geom.bounds, NEAR_M)
    half = ((near[2] - near[0]) / 2 * kx, (near[3] - near[1]) / 2 * ky)
    corners_lat = np.array([lat_lo, lat_lo, lat_hi, lat_hi])
    corners_lon = np.array([lon_lo, lon_hi, lon_lo, lon_hi])
    # An upper bound, so the sphere serves: every new person's zones are compiled, no geodesic loop here.
    far = float(haversine_m(np.full(4, lat0), np.full(4, lon0), corners_lat, corners_lon).max())
    far = far / HAVERSINE_SAFETY * 1.01
    plane = shapely.transform(geom, lambda c: (c - (lon0, lat0)) * (kx, ky))
    border = plane.boundary
    shapely.prepare(plane)
    shapely.prepare(border)
    grid = None
    if shapely.get_num_coordinates(geom) >= GRID_MIN_VERTICES:
        grid = build_grid(plane, near, (lon0, lat0), (kx, ky), GRID_MAX_SIDE, GRID_MIN_CELL_M)
    bbox_half = ((lon_hi - lon_lo) / 2 * kx, (lat_hi - lat_lo) / 2 * ky)
    return CompiledShape(
        AREA,
        lon0,
        lat0,
        kx,
        ky,
        plane_eps(lat0, near[1], near[3]),
        half,
        far,
        0.0,
        plane,
        border,
        bbox_half,
        grid,
    )


class ShapeTable:
    """Compiled shapes as parameter columns, grouped as each stage needs them so one `np.take(group, z,
    axis=1)` fetches a stage's parameters for all pairs (much faster than a gather per parameter), plus all
    rasters in one flat array."""

    def __init__(self, shapes: list[CompiledShape]) -> None:
        self.shapes = shapes

        def group(*fields: Callable[[CompiledShape], float], dtype: type = np.float64) -> np.ndarray:
            return np.array([[f(s) for s in shapes] for f in fields], dtype=dtype).reshape(len(fields), -1)

        self.kind = group(lambda s: s.kind, dtype=np.int8)[0]
        self.lon0, self.lat0 = group(lambda s: s.lon0, lambda s: s.lat0)
        self.far_radius = group(lambda s: s.far_radius_m)[0]
        # origin, scale and neighbourhood: x = (lon - lon0) * kx, near when |x| <= hx and |y| <= hy
        self.pos = group(
            lambda s: s.lon0,
            lambda s: s.lat0,
            lambda s: s.kx,
            lambda s: s.ky,
            lambda s: s.near_half[0],
            lambda s: s.near_half[1],
        )
        self.kx, self.ky = self.pos[2], self.pos[3]
        self.circle = group(lambda s: s.radius_m, lambda s: s.eps)
        self.box = group(lambda s: s.bbox_half[0], lambda s: s.bbox_half[1], lambda s: s.eps)
        self.area = np.array([s.plane_area for s in shapes], dtype=object)
        self.border = np.array([s.plane_border for s in shapes], dtype=object)
        # Rasters: origin in plane metres and 1 / cell size; offset into the flat arrays (-1: none), size.
        self.raster = group(
            lambda s: (s.grid.lon0 - s.lon0) * s.kx if s.grid else 0.0,
            lambda s: (s.grid.lat0 - s.lat0) * s.ky if s.grid else 0.0,
            lambda s: 1 / s.grid.cell_m if s.grid else 0.0,
            lambda s: s.grid.unit_m if s.grid else 0.0,
        )
        sizes = [s.grid.nx * s.grid.ny if s.grid else 0 for s in shapes]
        offsets = np.cumsum([0, *sizes])[:-1]
        self.raster_ix = np.array(
            [
                [off if s.grid else -1 for off, s in zip(offsets, shapes, strict=True)],
                [s.grid.nx if s.grid else 0 for s in shapes],
                [s.grid.ny if s.grid else 0 for s in shapes],
            ],
            dtype=np.int64,
        ).reshape(3, -1)
        grids = [s.grid for s in shapes if s.grid]
        if len(grids) == 1:  # the usual one-county book: share the raster (megabytes) instead of copying it
            self.bounds = grids[0].bounds
        else:
            self.bounds = np.concatenate([g.bounds for g in grids]) if grids else np.zeros((0, 2), np.int16)
