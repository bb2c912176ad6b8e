"""A precomputed raster of signed-distance bounds, so most fixes are judged by one array lookup.

Each cell stores [lo, hi], bounds in true metres on the ellipsoid of the signed distance (negative inside)
from *any* point of the cell to the zone's boundary. They come from the exact plane distance at the cell
centre, widened by the cell's half-diagonal (distance is 1-Lipschitz), the plane's relative error eps and the
tolerance of the simplified boundary used to compute them. The raster is built coarse to fine: a cell far
from the boundary relative to its size keeps its coarse bounds, only cells near the boundary are refined,
so building costs a few tens of thousands of distance evaluations even for a county with a long border.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geofence.earth import plane_eps

# A cell keeps its coarse bounds once its centre is this many half-diagonals away from the boundary.
_FAR_FACTOR = 2.0
_ROOT_CELLS = 16
_UNITS_PER_CELL = 16


@dataclass(frozen=True, eq=False, slots=True)
class Grid:
    lon0: float  # lower-left corner of the raster
    lat0: float
    dlon: float  # cell size in degrees
    dlat: float
    nx: int
    ny: int
    cell_m: float  # cell side in the zone's plane (cells are square there)
    unit_m: float  # bounds are stored in these units
    bounds: np.ndarray  # int16 [lo, hi] per cell in unit_m, cells row-major (iy * nx + ix)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.lon0, self.lat0, self.lon0 + self.nx * self.dlon, self.lat0 + self.ny * self.dlat


def build_grid(
    plane_area: BaseGeometry,
    box: tuple[float, float, float, float],
    origin: tuple[float, float],
    k: tuple[float, float],
    max_side: int,
    min_cell_m: float,
) -> Grid:
    """Raster over `box` (lon/lat) of a zone whose plane image is `plane_area` (x = (lon - lon0) * kx...)."""
    (lon_lo, lat_lo, lon_hi, lat_hi), (lon0, lat0), (kx, ky) = box, origin, k
    width, height = (lon_hi - lon_lo) * kx, (lat_hi - lat_lo) * ky
    cell = max(min_cell_m, max(width, height) / max_side)
    # One spare cell on every side: any point of `box` then maps to a cell index without clipping.
    x_lo, y_lo = (lon_lo - lon0) * kx - cell, (lat_lo - lat0) * ky - cell
    width, height = width + 2 * cell, height + 2 * cell
    levels = max(0, int(math.floor(math.log2(max(width, height) / cell / _ROOT_CELLS))))
    block = 1 << levels
    nx = math.ceil(math.ceil(width / cell) / block) * block
    ny = math.ceil(math.ceil(height / cell) / block) * block
    lat_lo = lat0 + y_lo / ky
    eps = plane_eps(lat0, lat_lo, lat_lo + ny * cell / ky)  # over the raster's own extent
    tol = cell / 4  # simplification tolerance: the simplified border is within tol of the true one
    border = shapely.simplify(plane_area.boundary, tol, preserve_topology=False)
    shapely.prepare(plane_area)

    root_size = cell * block

    def signed(ix: np.ndarray, iy: np.ndarray, level: int) -> np.ndarray:
        size = cell * (1 << (levels - level))
        cx, cy = x_lo + (ix + 0.5) * size, y_lo + (iy + 0.5) * size
        pts = shapely.points(cx, cy)
        if level == 0:
            d = shapely.distance(border, pts)
        else:
            # Refined cells are children of cells whose centre was within 2 parent half-diagonals of the
            # border, so their nearest border point lies within 2.5 of them: a clipped border answers exactly.
            reach = 3 * (2 * size) * math.sqrt(0.5)
            d = np.empty(len(ix))
            root = (iy >> level) * (nx >> levels) + (ix >> level)
            order = np.argsort(root, kind="stable")
            cuts = np.flatnonzero(np.diff(root[order])) + 1
            for part in np.split(order, cuts):
                rx, ry = ix[part[0]] >> level, iy[part[0]] >> level
                x0, y0 = x_lo + rx * root_size - reach, y_lo + ry * root_size - reach
                local = shapely.clip_by_rect(
                    border, x0, y0, x0 + root_size + 2 * reach, y0 + root_size + 2 * reach
                )
                d[part] = shapely.distance(local, pts[part])
        return np.where(shapely.contains_xy(plane_area, cx, cy), -d, d)

    iy, ix = (a.ravel() for a in np.mgrid[0 : ny >> levels, 0 : nx >> levels])
    lo_img: np.ndarray | None = None
    hi_img: np.ndarray | None = None
    for level in range(levels + 1):
        size = cell * (1 << (levels - level))
        half_diag = size * math.sqrt(0.5)
        s = signed(ix, iy, level)
        final = (np.abs(s) >= _FAR_FACTOR * half_diag) | (level == levels)
        slack = eps * np.abs(s) + (1 + eps) * (half_diag + tol)
        shape = (ny >> (levels - level), nx >> (levels - level))
        lo_lvl, hi_lvl = np.full(shape, np.nan), np.full(shape, np.nan)
        lo_lvl[iy[final], ix[final]] = (s - slack)[final]
        hi_lvl[iy[final], ix[final]] = (s + slack)[final]
        if lo_img is None or hi_img is None:
            lo_img, hi_img = lo_lvl, hi_lvl
        else:  # upsample the coarser image and overwrite where this level decided
            lo_img = lo_img.repeat(2, 0).repeat(2, 1)
            hi_img = hi_img.repeat(2, 0).repeat(2, 1)
            done = ~np.isnan(lo_lvl)
            lo_img[done], hi_img[done] = lo_lvl[done], hi_lvl[done]
        keep = ~final
        ix = (2 * ix[keep][:, None] + np.array([0, 1, 0, 1])).ravel()
        iy = (2 * iy[keep][:, None] + np.array([0, 0, 1, 1])).ravel()
    assert lo_img is not None and hi_img is not None
    # float32 storage, rounded outwards so the bounds stay bounds.
    # Stored as int16 multiples of `unit`, rounded outwards so they stay bounds; |s| never exceeds the
    # raster's diagonal, about 1,600 cells = 26,000 units, within int16. Interleaved [lo, hi] per cell:
    # 4 bytes, one cache line per lookup, 5 MB for a county.
    unit = cell / _UNITS_PER_CELL
    lo_q = np.clip(np.floor(lo_img / unit), -32768, 32767).astype(np.int16).ravel()
    hi_q = np.clip(np.ceil(hi_img / unit), -32768, 32767).astype(np.int16).ravel()
    return Grid(
        lon0 + x_lo / kx, lat_lo, cell / kx, cell / ky, nx, ny, cell, unit, np.stack([lo_q, hi_q], axis=1)
    )
