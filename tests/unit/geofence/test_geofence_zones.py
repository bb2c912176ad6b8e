"""Zones: GeoJSON in and out, and refusals that name the offending field."""

from __future__ import annotations

import json

import pytest
from geofence_testkit import LAT0, LON0
from shapely.geometry import Polygon, mapping

from geofence import (
    Area,
    Circle,
    GeometryError,
    PersonFences,
    Role,
    Schedule,
    Zone,
    ZoneError,
    zone_from_geojson,
    zone_to_geojson,
    zones_from_geojson,
    zones_to_geojson,
)

SQUARE = [[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1], [120.0, 30.0]]


def feature(geometry: dict, **props: object) -> dict:
    return {"type": "Feature", "id": "z1", "geometry": geometry, "properties": {"role": "allowed", **props}}


def polygon(*rings: list) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def refused(obj: dict) -> ZoneError:
    with pytest.raises(ZoneError) as info:
        zone_from_geojson(obj)
    return info.value


def test_county_round_trips_through_geojson(county: Polygon) -> None:
    f = {
        "type": "Feature",
        "id": "xihu",
        "geometry": mapping(county),
        "properties": {"role": "allowed", "name": "Xihu district"},
    }
    zone = zone_from_geojson(json.loads(json.dumps(f)))
    assert zone.role is Role.ALLOWED and isinstance(zone.shape, Area)
    out = zone_to_geojson(zone)
    again = zone_from_geojson(json.loads(json.dumps(out)))
    assert again.shape.geometry.equals(zone.shape.geometry)
    assert out["properties"]["name"] == "Xihu district"
    assert Polygon(out["geometry"]["coordinates"][0]).exterior.is_ccw  # RFC 7946 right-hand rule


def test_circle_and_schedule_round_trip() -> None:
    f = {
        "type": "Feature",
        "id": 7,
        "geometry": {"type": "Point", "coordinates": [LON0, LAT0]},
        "properties": {
            "role": "allowed",
            "radius_m": 150,
            "schedule": {"windows": [{"start": "22:00", "end": "06:00", "days": ["fri", "sat"]}]},
        },
    }
    zone = zone_from_geojson(f)
    assert zone.id == "7" and zone.shape == Circle(LON0, LAT0, 150.0) and zone.is_curfew
    assert zone_to_geojson(zone)["properties"]["schedule"] == f["properties"]["schedule"]
    assert zone_from_geojson(zone_to_geojson(zone)) == zone


def test_forbidden_place_with_severity_and_margin() -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "victim",
                "geometry": {"type": "Point", "coordinates": [LON0, LAT0]},
                "properties": {"role": "forbidden", "radius_m": 30, "severity": "high", "margin_m": 200},
            },
            {
                "type": "Feature",
                "id": "bar",
                "geometry": polygon(SQUARE),
                "properties": {"role": "forbidden"},
            },
        ],
    }
    zones = zones_from_geojson(fc)
    assert [z.severity.value for z in zones] == ["high", "medium"] and zones[0].margin_m == 200
    assert zones_from_geojson(zones_to_geojson(zones)) == zones


@pytest.mark.parametrize(
    ("obj", "path", "words"),
    [
        (feature(polygon(SQUARE[:-1])), "geometry.coordinates[0]", "not closed"),
        (
            feature(polygon([[120, 30], [120.1, 30.1], [120.1, 30], [120, 30.1], [120, 30]])),
            "geometry.coordinates[0]",
            "self-intersects near lon 120.05, lat 30.05",
        ),
        (
            feature(polygon([[120, 30], [120.1, 30], [120.2, 30], [120, 30]])),
            "geometry.coordinates[0]",
            "degenerate",
        ),
        (
            feature(polygon([[120, 30], [120.1, 30], [120, 30], [120, 30]])),
            "geometry.coordinates[0]",
            "degenerate",
        ),
        (
            feature(polygon([[120, 30], [120, 30], [120, 30]])),
            "geometry.coordinates[0]",
            "at least 4 positions",
        ),
        (feature(polygon()), "geometry.coordinates", "empty polygon"),
        (feature({"type": "MultiPolygon", "coordinates": []}), "geometry.coordinates", "empty multipolygon"),
        (
            feature(polygon([[120, 30], [120.1, 30], [120.1, 95], [120, 30]])),
            "geometry.coordinates[0][2]",
            "latitude 95.0 is out of range",
        ),
        (
            feature(polygon([[190, 30], [120.1, 30], [120.1, 31], [190, 30]])),
            "geometry.coordinates[0][0]",
            "longitude 190.0 is out of range",
        ),
        (
            feature(polygon([[120, "30"], [120.1, 30], [120.1, 31], [120, 30]])),
            "geometry.coordinates[0][0]",
            "must be numbers",
        ),
        (
            feature(polygon(SQUARE, [[121, 31], [121.01, 31], [121.01, 31.01], [121, 31]])),
            "geometry.coordinates",
            "hole outside",
        ),
        (
            feature({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}),
            "geometry.coordinates",
            "polygons",
        ),
        (feature({"type": "Point", "coordinates": [LON0, LAT0]}), "properties.radius_m", "radius_m"),
        (
            feature({"type": "Point", "coordinates": [LON0, LAT0]}, radius_m=-5),
            "properties.radius_m",
            "radius",
        ),
        (feature({"type": "LineString", "coordinates": SQUARE}), "geometry.type", "expected Polygon"),
        (feature(polygon([[120, 30], [127, 30], [127, 31], [120, 30]])), "geometry.coordinates", "spans"),
        (feature(polygon(SQUARE), role="sometimes"), "properties.role", "allowed, forbidden"),
        (feature(polygon(SQUARE), margin_m=-1), "properties.margin_m", "margin"),
        (feature(polygon(SQUARE), severity="dire"), "properties.severity", "low, medium, high"),
        (
            feature(polygon(SQUARE), schedule={"windows": [{"start": "22:00", "end": "25:00"}]}),
            "properties.schedule.windows[0].end",
            "not a time of day",
        ),
        (
            feature(polygon(SQUARE), schedule={"windows": [{"start": "8pm", "end": "06:00"}]}),
            "properties.schedule.windows[0].start",
            "HH:MM",
        ),
        (
            feature(polygon(SQUARE), schedule={"windows": [{"start": "06:00", "end": "06:00"}]}),
            "properties.schedule.windows[0]",
            "all-day",
        ),
        (
            {"type": "Feature", "geometry": polygon(SQUARE), "properties": {"role": "allowed"}},
            "id",
            "needs an id",
        ),
        ({"type": "Polygon", "coordinates": [SQUARE]}, "type", "Feature"),
    ],
)
def test_invalid_zones_are_refused_with_a_clear_reason(obj: dict, path: str, words: str) -> None:
    err = refused(obj)
    assert err.path == path, str(err)
    assert words in err.reason, str(err)


def test_geometry_errors_are_a_kind_of_zone_error() -> None:
    err = refused(feature(polygon(SQUARE[:-1])))
    assert isinstance(err, GeometryError) and isinstance(err, ValueError)
    assert str(err).startswith("geometry.coordinates[0]: ")


def test_collection_errors_name_the_feature() -> None:
    fc = {"type": "FeatureCollection", "features": [feature(polygon(SQUARE)), feature(polygon(SQUARE[:-1]))]}
    with pytest.raises(GeometryError) as info:
        zones_from_geojson(fc)
    assert info.value.path == "features[1].geometry.coordinates[0]"


def test_programmatic_shapes_are_validated_too() -> None:
    with pytest.raises(GeometryError, match="invalid shape"):
        Area(Polygon([(120, 30), (120.1, 30.1), (120.1, 30), (120, 30.1)]))
    with pytest.raises(GeometryError, match="empty"):
        Area(Polygon())
    with pytest.raises(GeometryError, match="latitude"):
        Circle(120.0, 91.0, 10.0)


def test_person_fences_need_a_time_zone_for_schedules_and_unique_ids() -> None:
    curfew = Zone(
        "home",
        Role.ALLOWED,
        Circle(LON0, LAT0, 100.0),
        schedule=Schedule.from_json({"windows": [{"start": "22:00", "end": "06:00"}]}),
    )
    with pytest.raises(ZoneError, match="time zone") as info:
        PersonFences((curfew,))
    assert info.value.path == "tz"
    with pytest.raises(ZoneError, match="unknown time zone"):
        PersonFences((curfew,), tz="Mars/Olympus")
    with pytest.raises(ZoneError, match="duplicate zone ids: home"):
        PersonFences((curfew, curfew), tz="Asia/Shanghai")
    assert PersonFences((curfew,), tz="Asia/Shanghai").tz == "Asia/Shanghai"
