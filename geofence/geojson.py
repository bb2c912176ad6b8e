"""GeoJSON (RFC 7946) in and out, with refusals that name the offending field.

A zone is a Feature with an `id`. Polygons and MultiPolygons are areas; a circle, which GeoJSON lacks, is a
Point with `properties.radius_m` (the usual convention). Properties: `role` ("allowed" | "forbidden"),
`severity` ("low" | "medium" | "high"), `margin_m`, `schedule` ({"windows": [{"start", "end", "days"}]}),
`name`.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import LinearRing, LineString, MultiPolygon, Polygon, mapping

from geofence.errors import GeometryError, ZoneError
from geofence.schedule import Schedule
from geofence.zones import Area, Circle, Severity, Zone, check_position


def zone_from_geojson(feature: Any, path: str = "") -> Zone:
    p = f"{path}." if path else ""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ZoneError(path or "type", 'expected a GeoJSON Feature ({"type": "Feature", ...})')
    fid = feature.get("id")
    if isinstance(fid, bool) or not isinstance(fid, str | int) or fid == "":
        raise ZoneError(f"{p}id", "a zone Feature needs an id (string or number)")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise ZoneError(f"{p}properties", "expected an object")
    shape = _shape(feature.get("geometry"), props, f"{p}geometry", f"{p}properties")
    schedule = props.get("schedule")
    name = props.get("name")
    if name is not None and not isinstance(name, str):
        raise ZoneError(f"{p}properties.name", "expected a string")
    margin = props.get("margin_m", 0.0)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not math.isfinite(margin):
        raise ZoneError(f"{p}properties.margin_m", "expected a number of metres")
    try:
        return Zone(
            id=str(fid),
            role=props.get("role"),  # type: ignore[arg-type]  # validated by Zone
            shape=shape,
            severity=props.get("severity", Severity.MEDIUM),
            margin_m=float(margin),
            schedule=None if schedule is None else Schedule.from_json(schedule, f"{p}properties.schedule"),
            name=name,
        )
    except ZoneError as exc:
        if exc.path.startswith("properties") and p:
            raise type(exc)(p + exc.path, exc.reason) from None
        raise


def zones_from_geojson(obj: Any) -> list[Zone]:
    """A Feature or a FeatureCollection of zones."""
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise ZoneError("features", "expected an array of Features")
        return [zone_from_geojson(f, f"features[{i}]") for i, f in enumerate(feats)]
    return [zone_from_geojson(obj)]


def zone_to_geojson(zone: Zone) -> dict[str, Any]:
    props: dict[str, Any] = {
        "role": zone.role.value,
        "severity": zone.severity.value,
        "margin_m": zone.margin_m,
    }
    if isinstance(zone.shape, Circle):
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [zone.shape.lon, zone.shape.lat]}
        props["radius_m"] = zone.shape.radius_m
    else:
        geometry = _lists(mapping(zone.shape.geometry))
    if zone.schedule is not None:
        props["schedule"] = zone.schedule.to_json()
    if zone.name is not None:
        props["name"] = zone.name
    return {"type": "Feature", "id": zone.id, "geometry": geometry, "properties": props}


def zones_to_geojson(zones: list[Zone] | tuple[Zone, ...]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [zone_to_geojson(z) for z in zones]}


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_lists(v) for v in obj]
    return obj


def _shape(geom: Any, props: dict[str, Any], path: str, ppath: str) -> Circle | Area:
    if not isinstance(geom, dict):
        raise GeometryError(path, "a zone needs a geometry object")
    kind, coords = geom.get("type"), geom.get("coordinates")
    cpath = f"{path}.coordinates"
    if kind == "Point":
        lon, lat = _position(coords, cpath)
        radius = props.get("radius_m")
        if isinstance(radius, bool) or not isinstance(radius, int | float):
            raise GeometryError(f"{ppath}.radius_m", "a Point zone is a circle and needs radius_m in metres")
        try:
            return Circle(lon, lat, float(radius))
        except GeometryError as exc:
            raise GeometryError(f"{ppath}.radius_m" if "radius" in exc.path else cpath, exc.reason) from None
    if kind == "Polygon":
        g: Polygon | MultiPolygon = _polygon(coords, cpath)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise GeometryError(cpath, "empty multipolygon: expected at least one polygon")
        g = MultiPolygon([_polygon(c, f"{cpath}[{i}]") for i, c in enumerate(coords)])
        if not g.is_valid:
            raise GeometryError(cpath, f"the polygons {_explain(shapely.is_valid_reason(g))}")
    else:
        raise GeometryError(f"{path}.type", f"expected Polygon, MultiPolygon or Point (circle), got {kind!r}")
    try:
        return Area(g)
    except GeometryError as exc:
        raise GeometryError(cpath, exc.reason) from None


def _position(pos: Any, path: str) -> tuple[float, float]:
    if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
        raise GeometryError(path, "expected a position [lon, lat] (or [lon, lat, alt])")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in pos):
        raise GeometryError(path, "position values must be numbers")
    lon, lat = float(pos[0]), float(pos[1])
    check_position(lon, lat, path)
    return lon, lat


def check_area_structure(geom: Any, path: str = "geometry") -> None:
    """A Polygon's or MultiPolygon's coordinates well formed, as zones need them: arrays of closed rings of
    at least 4 in-range positions. Whether the shape is valid (simple, non-degenerate) is not judged here."""
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise GeometryError(
            f"{path}.type" if isinstance(geom, dict) else path, "expected a Polygon or MultiPolygon"
        )
    coords, cpath = geom.get("coordinates"), f"{path}.coordinates"
    if geom["type"] == "Polygon":
        polygons, paths = [coords], [cpath]
    elif isinstance(coords, list) and coords:
        polygons, paths = coords, [f"{cpath}[{i}]" for i in range(len(coords))]
    else:
        raise GeometryError(cpath, "empty multipolygon: expected at least one polygon")
    for polygon, ppath in zip(polygons, paths, strict=True):
        if not isinstance(polygon, list) or not polygon:
            raise GeometryError(ppath, "expected an array of linear rings, the exterior first")
        for i, ring in enumerate(polygon):
            _closed_ring(ring, f"{ppath}[{i}]")


def _closed_ring(ring: Any, path: str) -> list[tuple[float, float]]:
    if not isinstance(ring, list):
        raise GeometryError(path, "expected a linear ring (an array of positions)")
    pts = [_position(p, f"{path}[{i}]") for i, p in enumerate(ring)]
    if len(pts) < 4:
        raise GeometryError(
            path, f"a linear ring needs at least 4 positions (first repeated as last), got {len(pts)}"
        )
    if pts[0] != pts[-1]:
        raise GeometryError(
            path, f"ring is not closed: first position {list(pts[0])} differs from last {list(pts[-1])}"
        )
    return pts


def _ring(ring: Any, path: str) -> list[tuple[float, float]]:
    pts = _closed_ring(ring, path)
    if len(set(pts)) < 3 or LineString(pts).convex_hull.area == 0:
        raise GeometryError(
            path, "degenerate ring: its positions are collinear or repeated, enclosing no area"
        )
    lr = LinearRing(pts)
    if not lr.is_simple:
        raise GeometryError(path, f"ring {_explain(shapely.is_valid_reason(Polygon(lr)))}")
    return pts


def _polygon(coords: Any, path: str) -> Polygon:
    if not isinstance(coords, list):
        raise GeometryError(path, "expected an array of linear rings")
    if not coords:
        raise GeometryError(path, "empty polygon: expected at least an exterior ring")
    rings = [_ring(r, f"{path}[{i}]") for i, r in enumerate(coords)]
    poly = Polygon(rings[0], rings[1:])
    if not poly.is_valid:
        raise GeometryError(path, f"polygon {_explain(shapely.is_valid_reason(poly))}")
    return poly


def _explain(reason: str) -> str:
    """Turn GEOS's 'Self-intersection[120.1 30.2]' into words with the place."""
    text, _, where = reason.partition("[")
    where = where.rstrip("]").split()
    at = f" near lon {where[0]}, lat {where[1]}" if len(where) >= 2 else ""
    words = {
        "Self-intersection": "self-intersects",
        "Ring Self-intersection": "self-intersects (touches itself)",
        "Hole lies outside shell": "has a hole outside its exterior ring",
        "Interior is disconnected": "has a disconnected interior",
        "Nested holes": "has nested holes",
        "Nested shells": "overlap (nested shells)",
        "Too few points": "has too few points",
    }
    return words.get(text.strip(), text.strip().lower() or "is invalid") + at
