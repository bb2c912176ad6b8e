"""GeoJSON as clients send it: a bare geometry or a Feature (or a one-Feature collection) wrapping one.

An area (a trip's destination) is a Polygon or MultiPolygon; drawing tools hand out Features, so either is
taken and the geometry kept. (A zone needs properties, its role, so it is always a Feature; a single one is
taken where a FeatureCollection of zones is expected: geo_convert.zones_in.)"""

from __future__ import annotations

from typing import Any

from backend.core.errors import InvalidInput

AREAS = ("Polygon", "MultiPolygon")


def area_geometry(obj: Any, field: str) -> dict:
    """The Polygon or MultiPolygon `obj` is or wraps; 422 naming `field` otherwise."""
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise InvalidInput(field, "a FeatureCollection here must hold exactly one Feature")
        obj, field = features[0], f"{field}.features[0]"
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj, field = obj.get("geometry"), f"{field}.geometry"
    if not isinstance(obj, dict) or obj.get("type") not in AREAS:
        raise InvalidInput(field, "must be a GeoJSON Polygon or MultiPolygon, or a Feature of one")
    return obj
