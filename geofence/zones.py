"""The fence model: zones (allowed areas, forbidden places, optional schedules) and a person's fence set."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

import shapely
from shapely.geometry import MultiPolygon, Polygon

from geofence.errors import GeometryError, ZoneError
from geofence.schedule import Schedule, check_tz

# The local-plane judgement is proven for zones of moderate size away from the poles (see earth.py).
MAX_ABS_LAT = 80.0
MAX_SPAN_DEG = 6.0
MAX_RADIUS_M = 100_000.0
# Margins stay below shapes.NEAR_M, so a fix outside a zone's neighbourhood can never be inside its margin.
MAX_MARGIN_M = 1_000.0

E = TypeVar("E", bound=StrEnum)


class Role(StrEnum):
    ALLOWED = "allowed"  # the person must be inside (while its schedule, if any, is active)
    FORBIDDEN = "forbidden"  # the person must keep out of the place and its margin


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def check_position(lon: float, lat: float, path: str) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryError(path, "coordinates must be finite numbers")
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(path, f"longitude {lon} is out of range [-180, 180] (positions are [lon, lat])")
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(path, f"latitude {lat} is out of range [-90, 90] (positions are [lon, lat])")
    if abs(lat) > MAX_ABS_LAT:
        raise GeometryError(
            path, f"latitude {lat} is beyond ±{MAX_ABS_LAT:g}°, where zones are not supported"
        )


@dataclass(frozen=True, slots=True)
class Circle:
    """A geodesic circle: every point within radius_m metres (on WGS84) of the centre."""

    lon: float
    lat: float
    radius_m: float

    def __post_init__(self) -> None:
        check_position(self.lon, self.lat, "geometry.coordinates")
        if not (math.isfinite(self.radius_m) and 0 < self.radius_m <= MAX_RADIUS_M):
            raise GeometryError("properties.radius_m", f"radius must be in (0, {MAX_RADIUS_M:g}] metres")


@dataclass(frozen=True, slots=True)
class Area:
    """A polygon or multipolygon in lon/lat (edges straight in lon/lat, as RFC 7946 says)."""

    geometry: Polygon | MultiPolygon

    def __post_init__(self) -> None:
        g = self.geometry
        if not isinstance(g, Polygon | MultiPolygon):
            raise GeometryError("geometry", f"expected a Polygon or MultiPolygon, got {g.geom_type}")
        if g.is_empty:
            raise GeometryError("geometry.coordinates", "the shape is empty")
        if not g.is_valid:
            raise GeometryError("geometry.coordinates", f"invalid shape: {shapely.is_valid_reason(g)}")
        if g.area <= 0:
            raise GeometryError("geometry.coordinates", "degenerate shape with zero area")
        lon0, lat0, lon1, lat1 = g.bounds
        check_position(lon0, lat0, "geometry.coordinates")
        check_position(lon1, lat1, "geometry.coordinates")
        if lon1 - lon0 > MAX_SPAN_DEG or lat1 - lat0 > MAX_SPAN_DEG:
            raise GeometryError(
                "geometry.coordinates",
                f"the shape spans {lon1 - lon0:.2f}° x {lat1 - lat0:.2f}°; at most {MAX_SPAN_DEG:g}° "
                "(about 600 km) is supported; split larger areas into several zones",
            )
        # RFC 7946 orientation (exterior counter-clockwise) for output; judgement does not depend on it.
        object.__setattr__(self, "geometry", shapely.orient_polygons(g, exterior_cw=False))


Shape = Circle | Area


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    role: Role
    shape: Shape
    severity: Severity = Severity.MEDIUM
    # Forbidden places: keep this far away too. Allowed areas: tolerance outside the boundary.
    margin_m: float = 0.0
    schedule: Schedule | None = None  # None = always active
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ZoneError("id", "a zone needs a non-empty id (it keys the person's state between batches)")
        object.__setattr__(self, "role", _enum(Role, self.role, "properties.role"))
        object.__setattr__(self, "severity", _enum(Severity, self.severity, "properties.severity"))
        if not isinstance(self.shape, Circle | Area):
            raise ZoneError("geometry", "expected a Circle or an Area")
        if not (isinstance(self.margin_m, int | float) and 0 <= self.margin_m <= MAX_MARGIN_M):
            raise ZoneError("properties.margin_m", f"margin must be in [0, {MAX_MARGIN_M:g}] metres")

    @property
    def is_curfew(self) -> bool:
        """An allowed zone with a schedule: be inside during the windows (e.g. home 22:00-06:00)."""
        return self.role is Role.ALLOWED and self.schedule is not None


def _enum(cls: type[E], value: object, path: str) -> E:
    try:
        return cls(value)
    except ValueError:
        raise ZoneError(path, f"expected one of {', '.join(m.value for m in cls)}, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class PersonFences:
    """All zones of one supervised person and the time zone their schedules are read in."""

    zones: tuple[Zone, ...]
    tz: str | None = None
    _ids: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zones", tuple(self.zones))
        ids = [z.id for z in self.zones]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ZoneError("zones", f"duplicate zone ids: {', '.join(dupes)}")
        object.__setattr__(self, "_ids", frozenset(ids))
        if self.tz is not None:
            check_tz(self.tz)
        elif any(z.schedule is not None for z in self.zones):
            raise ZoneError("tz", "a zone has a schedule, so the person's time zone is required")
