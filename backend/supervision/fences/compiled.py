"""A measure's fences compiled for one local day, and the two process caches that make that cheap: compiled
fences by (measure, fences_version, zone, day), parsed zone shapes by shape key. Allowed zones are widened
by the areas of trips approved for the day."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict

from geopy.distance import geodesic
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

import geofence
from backend.db.json import loaded
from backend.supervision.fences import store
from backend.supervision.fences.allowed_areas import approved_trip_areas
from backend.supervision.fences.zones import shape_key as zone_shape_key
from backend.supervision.measures.tables import Measure
from geofence.shapes import ShapeTable, compile_shape

PERSON = 1  # geofence keys persons by integer; one measure is judged at a time


def _circle_polygon(lon: float, lat: float, radius_m: float, points: int = 64):
    ring = [
        geodesic(meters=radius_m).destination((lat, lon), bearing=360 * i / points) for i in range(points)
    ]
    return shape({"type": "Polygon", "coordinates": [[(p.longitude, p.latitude) for p in ring + ring[:1]]]})


def _widened(feature: dict, trips: list[dict]) -> dict:
    """An allowed zone plus the areas of trips approved for this day."""
    geometry = feature["geometry"]
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"][:2]
        base = _circle_polygon(lon, lat, float(feature["properties"]["radius_m"]))
        properties = {k: v for k, v in feature["properties"].items() if k != "radius_m"}
    else:
        base, properties = shape(geometry), feature["properties"]
    union = unary_union([base, *(shape(t) for t in trips)])
    # shapely's mapping() gives tuples; GeoJSON (and geofence's parser) wants arrays.
    return feature | {"geometry": json.loads(json.dumps(mapping(union))), "properties": properties}


@dataclasses.dataclass
class CompiledFences:
    fences: geofence.PersonFences
    book: geofence.FenceBook  # for judging upload streams
    unscheduled: tuple  # zones without a schedule, for judging a check-in's single fix
    _table: ShapeTable | None = None

    @property
    def table(self) -> ShapeTable:
        if self._table is None:
            self._table = ShapeTable([compile_shape(z.shape) for z in self.unscheduled])
        return self._table


_compiled: OrderedDict[tuple, CompiledFences] = OrderedDict()
# Every worker sees every phone, so the cache must hold a whole caseload or it misses on every upload (at
# 10,000 persons and 4,096 entries, later uploads were slower than first ones). About 6 KB an entry.
COMPILED_CACHE_SIZE = 16384


async def fences_for(measure: Measure, day) -> CompiledFences:
    """A measure's fences for one local day, compiled once per (measure, fences_version, day) in a process:
    loading and compiling them costs more than judging a whole upload."""
    key = (str(measure.id), measure.fences_version, measure.timezone, day)
    if (hit := _compiled.get(key)) is not None:
        _compiled.move_to_end(key)
        return hit
    zones = await _active_zones(measure.id)
    trips = await approved_trip_areas(measure.id, day) if zones else []
    if trips:
        zones = [
            _zone_with_id(_widened(geofence.zone_to_geojson(z), trips), z.id)
            if z.role is geofence.Role.ALLOWED
            else z
            for z in zones
        ]
    fences = geofence.PersonFences(tuple(zones), tz=measure.timezone)
    unscheduled = tuple(z for z in zones if z.schedule is None)
    compiled = CompiledFences(fences, geofence.FenceBook({PERSON: fences}), unscheduled)
    _compiled[key] = compiled
    if len(_compiled) > COMPILED_CACHE_SIZE:
        _compiled.popitem(last=False)
    return compiled


async def _active_zones(measure_id: object) -> list[geofence.Zone]:
    """The measure's zones, parsed. Rows come back as (id, shape_key); only shapes this process has not
    parsed yet are loaded as GeoJSON, so a new person in a known county costs one small query."""
    rows = await store.active_zone_keys(measure_id)
    missing = {r["id"]: r for r in rows if r["shape_key"] not in _zone_by_shape}
    if missing:
        for row in await store.zone_features(list(missing)):
            feature = loaded(row["feature"])
            # Rows written before shape keys existed get theirs here.
            shape_key = missing[row["id"]]["shape_key"] or zone_shape_key(feature)
            _zone_by_shape[shape_key] = _zone_with_id(feature, "cached")
            missing[row["id"]]["shape_key"] = shape_key
    zones = []
    for r in rows:
        _zone_by_shape.move_to_end(r["shape_key"])
        zones.append(dataclasses.replace(_zone_by_shape[r["shape_key"]], id=str(r["id"])))
    while len(_zone_by_shape) > SHAPE_CACHE_SIZE:
        _zone_by_shape.popitem(last=False)
    return zones


# Parsing and validating a 600-vertex county costs ~10 ms and many people share one county: each distinct
# shape is parsed once per process (the id, which differs per measure, is put back by the caller).
_zone_by_shape: OrderedDict[str, geofence.Zone] = OrderedDict()
SHAPE_CACHE_SIZE = 65536  # a home and a forbidden place per person are shapes of their own


def _zone_with_id(feature: dict, zone_id: str) -> geofence.Zone:
    return geofence.zone_from_geojson({k: v for k, v in feature.items() if k != "id"} | {"id": zone_id})
