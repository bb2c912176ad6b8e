"""WGS84 ellipsoid helpers: local planes with a proven error bound, and the geodesic that decides near edges.

Every zone is judged in its own local plane: x = (lon - lon0) * kx, y = (lat - lat0) * ky with kx, ky the
ellipsoid's metres per degree at the zone's centre. The map is affine in lon/lat, so GeoJSON edges (straight
in lon/lat, RFC 7946 section 3.1.1) stay straight and point-in-polygon is exact. Plane distances differ from
ellipsoid distances by at most a relative `eps` that depends only on the latitude band the plane covers
(`plane_eps`): the true length element is sqrt((N cos(phi) dlon)^2 + (M dphi)^2), the plane's is
sqrt((kx dlon)^2 + (ky dphi)^2), and their ratio lies between min and max of N cos(phi)/kx and M/ky.
"""

from __future__ import annotations

import math

import numpy as np
from geopy.distance import geodesic

A = 6_378_137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
MEAN_RADIUS_M = 6_371_008.8
# The meridional radius of curvature is smallest at the equator: no degree of latitude is shorter than this.
MIN_METRES_PER_DEG_LAT = A * (1 - E2) * math.pi / 180
# Spherical (haversine) distances are within about 0.5 % of WGS84 geodesics; 1 % keeps lower bounds safe.
HAVERSINE_SAFETY = 0.99
# Plane error bounds are widened by this factor and floor to cover the tiny poleward bulge of geodesics.
_EPS_SAFETY = 1.1
_EPS_FLOOR = 1e-7


def metres_per_degree(lat_deg: float) -> tuple[float, float]:
    """Metres per degree of longitude (kx) and of latitude (ky) on WGS84 at a latitude."""
    phi = math.radians(lat_deg)
    w = 1 - E2 * math.sin(phi) ** 2
    n = A / math.sqrt(w)
    m = A * (1 - E2) / w**1.5
    return n * math.cos(phi) * math.pi / 180, m * math.pi / 180


def plane_eps(lat0: float, lat_lo: float, lat_hi: float) -> float:
    """Largest relative distance error of the plane centred at lat0 anywhere in the band [lat_lo, lat_hi].

    Both scale ratios are monotonic in latitude on each side of the equator, so the band's ends (and the
    equator when inside) bound them.
    """
    kx0, ky0 = metres_per_degree(lat0)
    worst = 0.0
    probes = [lat_lo, lat_hi] + ([0.0] if lat_lo < 0 < lat_hi else [])
    for lat in probes:
        kx, ky = metres_per_degree(lat)
        worst = max(worst, abs(kx / kx0 - 1), abs(ky / ky0 - 1))
    return worst * _EPS_SAFETY + _EPS_FLOOR


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance on the mean sphere, vectorised (for coarse far-away tests only)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * MEAN_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


# One geopy calculator, reused: geodesic((a, b), (c, d)) per pair sets up the ellipsoid each time,
# which costs more than the distance itself.
_WGS84 = geodesic()


def geodesic_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """WGS84 geodesic distances (Karney, through geopy). A Python loop: only for the few near-edge cases."""
    out = np.empty(len(lat1))
    for i, (a, b, c, d) in enumerate(
        zip(lat1.tolist(), lon1.tolist(), lat2.tolist(), lon2.tolist(), strict=True)
    ):
        out[i] = _WGS84.measure((a, b), (c, d)) * 1000.0  # measure() answers in kilometres
    return out
