"""Request and response bodies with places in them: fixes (check-ins and uploads), zones and trip areas
as GeoJSON, the track."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]


class FixIn(msgspec.Struct, forbid_unknown_fields=True):
    """One location fix, in the same words wherever a phone sends one (a check-in, an upload) and the
    track shows one: compact, since uploads carry thousands."""

    t: datetime  # when the fix was taken (a Meta here would hide it from backend.web.strict)
    lat: Latitude
    lon: Longitude
    accuracy_m: Annotated[float, Meta(ge=0, le=100000)]
    mock: bool = False


class LocationBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    device_seq: Annotated[int, Meta(ge=0, le=2**53)]
    fixes: Annotated[list[FixIn], Meta(min_length=1, max_length=2000)]


class FenceEventOut(msgspec.Struct):
    """A change of the person's state against a zone (left the allowed area, entered a forbidden place...)."""

    id: UUID
    kind: str
    at: datetime
    zone_id: str | None
    severity: str | None
    reason: str | None


class LocationBatchOut(msgspec.Struct):
    accepted: int
    flagged: int
    events: list[FenceEventOut]
    replayed: bool
    duplicates: int = 0  # fixes already stored (sent before under another device_seq), not stored again


# GeoJSON (RFC 7946) in: only the members the product reads are declared (others are ignored); geofence
# validates the coordinates and properties and names the offending field.
class PolygonIn(msgspec.Struct, tag_field="type", tag="Polygon", omit_defaults=True):
    coordinates: Any = None  # rings of [lon, lat] positions


class MultiPolygonIn(msgspec.Struct, tag_field="type", tag="MultiPolygon", omit_defaults=True):
    coordinates: Any = None  # polygons of rings of [lon, lat] positions


class PointIn(msgspec.Struct, tag_field="type", tag="Point", omit_defaults=True):
    coordinates: Any = None  # [lon, lat]: a circle's centre, its radius in properties.radius_m


class ZonePropertiesIn(msgspec.Struct, omit_defaults=True):
    role: Annotated[str, Meta(description="allowed | forbidden")] | None = None
    severity: Annotated[str, Meta(description="low | medium | high")] | None = None
    margin_m: Any = None
    radius_m: Any = None
    schedule: Any = None  # {"windows": [{"start": "22:00", "end": "06:00", "days": [0, ...]}]}
    name: Any = None


class FeatureIn(msgspec.Struct, tag_field="type", tag="Feature", omit_defaults=True):
    """One zone: a Polygon, MultiPolygon or Point (circle) with properties.role."""

    geometry: PolygonIn | MultiPolygonIn | PointIn | None = None
    properties: ZonePropertiesIn | None = None
    id: str | int | None = None


class FeatureCollectionIn(msgspec.Struct, tag_field="type", tag="FeatureCollection"):
    features: Annotated[list[FeatureIn], Meta(max_length=50)]


ZonesIn = FeatureCollectionIn | FeatureIn  # a drawing of several zones, or a single zone


class AreaFeatureIn(msgspec.Struct, tag_field="type", tag="Feature", omit_defaults=True):
    geometry: PolygonIn | MultiPolygonIn | None = None
    properties: dict[str, str | int | float | bool | None] | None = None


class AreaCollectionIn(msgspec.Struct, tag_field="type", tag="FeatureCollection"):
    features: Annotated[list[AreaFeatureIn], Meta(min_length=1, max_length=1)]


class GeometryOut(msgspec.Struct):
    type: Literal["Polygon", "MultiPolygon", "Point"]
    coordinates: Any


class ZonePropertiesOut(msgspec.Struct, omit_defaults=True):
    role: Literal["allowed", "forbidden"]
    severity: Literal["low", "medium", "high"] = "medium"
    margin_m: float = 0.0
    radius_m: float | None = None
    schedule: Any = None
    name: str | None = None


class ZoneFeatureOut(msgspec.Struct):
    id: str
    geometry: GeometryOut
    properties: ZonePropertiesOut
    type: Literal["Feature"] = "Feature"


class ZonesOut(msgspec.Struct):
    """A GeoJSON FeatureCollection of zones."""

    features: list[ZoneFeatureOut]
    type: Literal["FeatureCollection"] = "FeatureCollection"


class TrackFixOut(msgspec.Struct):
    t: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    flags: int  # geofence.Flag bits; 0: accepted


class EventFixOut(msgspec.Struct):
    """A fix that made a fence event, as geofence judged it (t in seconds since the epoch)."""

    t: float
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    mock: bool = False
    fix_id: Any = None
    person_id: Any = None


class TrackEventOut(msgspec.Struct):
    id: UUID
    kind: str
    at: datetime
    zone_id: str | None
    severity: str | None
    reason: str | None
    fixes: list[EventFixOut]
    ledger_entry: int | None


class TrackOut(msgspec.Struct):
    fixes: list[TrackFixOut]
    events: list[TrackEventOut]
    next_cursor: str | None = None
