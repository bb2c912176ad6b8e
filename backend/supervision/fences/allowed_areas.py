"""Allowed areas for a measure on a given day: the measure's own plus approved trips for their dates."""

from __future__ import annotations

from datetime import date

import shapely
from shapely.geometry import shape

from backend.core.errors import InvalidInput
from backend.db.json import loaded
from backend.supervision.fences import store
from backend.supervision.measures.tables import Measure
from geofence.errors import ZoneError
from geofence.geojson import check_area_structure


def validate_area(area: dict, field: str) -> None:
    """A GeoJSON Polygon or MultiPolygon in lon/lat that shapely accepts as valid."""
    if not isinstance(area, dict) or area.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(field, "must be a GeoJSON Polygon or MultiPolygon")
    try:  # the structure as zones need it (closed rings, positions in range) before shapely reads it
        check_area_structure(area, field)
    except ZoneError as exc:
        raise InvalidInput(exc.path, exc.reason) from None
    try:
        geometry = shape(area)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise InvalidInput(field, f"is not valid GeoJSON: {exc}") from None
    if geometry.is_empty:
        raise InvalidInput(field, "is empty")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidInput(field, "has coordinates out of range (longitude -180..180, latitude -90..90)")
    if not geometry.is_valid:
        raise InvalidInput(field, f"is not a valid shape: {shapely.is_valid_reason(geometry)}")
    if geometry.area == 0:
        raise InvalidInput(field, "is degenerate (no area)")


async def approved_trip_areas(measure_id: object, day: date) -> list[dict]:
    trips = await store.approved_trip_areas(measure_id, day)  # whenever fences are compiled for a day
    return [area for t in trips if (area := loaded(t["destination_area"]))]


async def bump_fences_version(measure_id: object) -> None:
    """Call inside the transaction that changes a measure's zones or approved trips: every process then
    recompiles that measure's fences on its next use (the compiled ones are cached by this version)."""
    await Measure.update({Measure.fences_version: Measure.fences_version + 1}).where(Measure.id == measure_id)
