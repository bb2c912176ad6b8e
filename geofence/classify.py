"""Judge (fix, zone) pairs: is the fix's whole accuracy circle inside the zone, outside it, or neither?

Signed distance s (metres on WGS84, negative inside the shape). With accuracy radius r and margin m, the
circle is IN the zone-plus-margin when s + r <= m and OUT when s - r >= m; anything between is UNSURE.
(For a point inside at depth d, every point of its circle is within r - d of the shape, so s + r <= m is
sufficient; for a convex shape it is also necessary.)

Work is staged so nearly every pair is settled by cheap vectorised arithmetic, and only pairs whose answer
hinges on a few centimetres reach the exact ellipsoidal distance:
  1. outside the shape's neighbourhood box: OUT whenever r + m fits in the box's guaranteed width;
  2. circles: plane distance to the centre with its error bound; areas: distance to the bounding box,
     then the raster of distance bounds, then exact vectorised shapely predicates on the plane image;
  3. the rest (|distance - threshold| within the plane's relative error): geopy's geodesic.
"""

from __future__ import annotations

import numpy as np
import shapely

from geofence.earth import HAVERSINE_SAFETY, geodesic_m, haversine_m
from geofence.shapes import AREA, CIRCLE, NEAR_M, ShapeTable

UNSURE, IN, OUT = 0, 1, 2
# Pairs are judged in chunks that keep the temporaries in cache.
CHUNK = 1 << 16


def classify(
    tab: ShapeTable, z: np.ndarray, lon: np.ndarray, lat: np.ndarray, r: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Verdict (UNSURE, IN, OUT) per pair: shape index z, fix position, accuracy radius r, margin m."""
    v = np.empty(len(z), dtype=np.int8)
    for s in range(0, len(z), CHUNK):
        c = slice(s, s + CHUNK)
        v[c] = _classify(tab, z[c], lon[c], lat[c], r[c], m[c])
    return v


def _classify(
    tab: ShapeTable, z: np.ndarray, lon: np.ndarray, lat: np.ndarray, r: np.ndarray, m: np.ndarray
) -> np.ndarray:
    lon0, lat0, kx, ky, hx, hy = np.take(tab.pos, z, axis=1)
    x, y = (lon - lon0) * kx, (lat - lat0) * ky
    near = (np.abs(x) <= hx) & (np.abs(y) <= hy)
    v = np.zeros(len(z), dtype=np.int8)
    far = np.flatnonzero(~near)
    if far.size:
        v[far] = _far(tab, z[far], lon[far], lat[far], r[far], m[far])
    kind = tab.kind[z]
    for k, judge in ((CIRCLE, _circles), (AREA, _areas)):
        mask = near & (kind == k)
        if mask.all():  # the common case of one kind of zone per slot: no subsetting
            return judge(tab, z, x, y, lon, lat, r, m)
        idx = np.flatnonzero(mask)
        if idx.size:
            v[idx] = judge(tab, z[idx], x[idx], y[idx], lon[idx], lat[idx], r[idx], m[idx])
    return v


def _far(
    tab: ShapeTable, z: np.ndarray, lon: np.ndarray, lat: np.ndarray, r: np.ndarray, m: np.ndarray
) -> np.ndarray:
    reach = r + m
    out = reach <= NEAR_M
    rest = np.flatnonzero(~out)
    if rest.size:  # a huge accuracy circle: lower-bound the distance through the shape's origin
        zr = z[rest]
        d = (
            haversine_m(lat[rest], lon[rest], tab.lat0[zr], tab.lon0[zr]) * HAVERSINE_SAFETY
            - tab.far_radius[zr]
        )
        out[rest] = d >= reach[rest]
    return np.where(out, OUT, UNSURE).astype(np.int8)


def _side(d: np.ndarray, threshold: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """+1 if the true distance is surely >= threshold, -1 if surely below, 0 if within the plane's error."""
    return np.where(d * (1 - eps) >= threshold, 1, np.where(d * (1 + eps) < threshold, -1, 0)).astype(np.int8)


def _side_query(geoms: np.ndarray, pts: np.ndarray, threshold: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """_side for a distance we never compute: prepared `dwithin` answers the two bracketing questions."""
    out = np.ones(len(pts), dtype=np.int8)  # thresholds <= 0 are always met
    idx = np.flatnonzero(threshold > 0)
    if idx.size:
        maybe_below = shapely.dwithin(geoms[idx], pts[idx], threshold[idx] / (1 - eps[idx]))
        idx = idx[maybe_below]
        surely_below = shapely.dwithin(geoms[idx], pts[idx], threshold[idx] / (1 + eps[idx]) * (1 - 1e-12))
        out[idx] = np.where(surely_below, -1, 0)
    return out


def _circles(
    tab: ShapeTable,
    z: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    r: np.ndarray,
    m: np.ndarray,
) -> np.ndarray:
    d = np.hypot(x, y)
    radius, eps = np.take(tab.circle, z, axis=1)
    t_in, t_out = radius + m - r, radius + m + r
    s_in, s_out = _side(d, t_in, eps), _side(d, t_out, eps)
    v = np.where(s_out == 1, OUT, np.where(s_in == -1, IN, UNSURE)).astype(np.int8)
    band = np.flatnonzero(((s_out == 0) | (s_in == 0)) & (s_out != 1) & (s_in != -1))
    if band.size:  # metres on the ellipsoid decide
        zb = z[band]
        de = geodesic_m(lat[band], lon[band], tab.lat0[zb], tab.lon0[zb])
        v[band] = np.where(de >= t_out[band], OUT, np.where(de <= t_in[band], IN, UNSURE))
    return v


def _areas(
    tab: ShapeTable,
    z: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    r: np.ndarray,
    m: np.ndarray,
) -> np.ndarray:
    v = np.full(len(z), -1, dtype=np.int8)  # -1: not decided yet
    off, nx = np.take(tab.raster_ix[:2], z, axis=1)
    rastered = off >= 0
    every = bool(rastered.all())
    gi = None if every else np.flatnonzero(rastered)
    if every or gi is not None and gi.size:
        x0, y0, inv, unit = np.take(tab.raster, _take(z, gi), axis=1)
        # Near points lie inside the raster's spare border, so the indices need no clipping.
        ix = ((_take(x, gi) - x0) * inv).astype(np.int64)
        iy = ((_take(y, gi) - y0) * inv).astype(np.int64)
        bounds = np.take(tab.bounds, _take(off, gi) + iy * _take(nx, gi) + ix, axis=0)
        rg, mg = _take(r, gi) / unit, _take(m, gi) / unit  # compare in the raster's units
        verdict = np.where(bounds[:, 1] <= mg - rg, IN, np.where(bounds[:, 0] >= mg + rg, OUT, -1)).astype(
            np.int8
        )
        if gi is None:
            v = verdict
        else:
            v[gi] = verdict
    if not every:  # small areas: the distance to the bounding box is a lower bound of the distance
        bi = np.flatnonzero(~rastered)
        bx, by, eps = np.take(tab.box, z[bi], axis=1)
        dx, dy = np.maximum(np.abs(x[bi]) - bx, 0.0), np.maximum(np.abs(y[bi]) - by, 0.0)
        v[bi[np.hypot(dx, dy) * (1 - eps) >= m[bi] + r[bi]]] = OUT
    rest = np.flatnonzero(v < 0)
    if rest.size:
        eps = tab.box[2, z[rest]]
        v[rest] = _areas_exact(tab, z[rest], x[rest], y[rest], lon[rest], lat[rest], r[rest], m[rest], eps)
    return v


def _take(a: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    return a if idx is None else a[idx]


def _areas_exact(
    tab: ShapeTable,
    z: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    r: np.ndarray,
    m: np.ndarray,
    eps: np.ndarray,
) -> np.ndarray:
    """Exact plane predicates, element-wise over the pairs (each against its own prepared shape)."""
    inside = shapely.contains_xy(tab.area[z], x, y)
    border, pts = tab.border[z], shapely.points(x, y)
    a, b, c = r - m, m + r, m - r
    v = np.full(len(z), UNSURE, dtype=np.int8)
    band = np.zeros(len(z), dtype=bool)
    ii = np.flatnonzero(inside)
    if ii.size:  # inside: IN when the border is at least r - m away
        s = _side_query(border[ii], pts[ii], a[ii], eps[ii])
        v[ii[s == 1]] = IN
        band[ii[s == 0]] = True
    oo = np.flatnonzero(~inside)
    if oo.size:  # outside: OUT beyond m + r, IN (forbidden margins) within m - r
        s_out = _side_query(border[oo], pts[oo], b[oo], eps[oo])
        v[oo[s_out == 1]] = OUT
        undecided = oo[s_out != 1]
        s_in = _side_query(border[undecided], pts[undecided], c[undecided], eps[undecided])
        v[undecided[s_in == -1]] = IN
        band[undecided[(s_in == 0) | (s_out[s_out != 1] == 0) & (s_in != -1)]] = True
    bi = np.flatnonzero(band)
    if bi.size:  # metres on the ellipsoid decide: geodesic to the nearest border point
        foot = shapely.get_coordinates(shapely.shortest_line(border[bi], pts[bi]))[0::2]
        zb = z[bi]
        foot_lon = foot[:, 0] / tab.kx[zb] + tab.lon0[zb]
        foot_lat = foot[:, 1] / tab.ky[zb] + tab.lat0[zb]
        d = geodesic_m(lat[bi], lon[bi], foot_lat, foot_lon)
        v[bi] = np.where(
            inside[bi],
            np.where(d >= a[bi], IN, UNSURE),
            np.where(d >= b[bi], OUT, np.where(d <= c[bi], IN, UNSURE)),
        )
    return v
