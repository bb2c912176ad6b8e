"""Places to response bodies and request bodies to the plain GeoJSON the zone and area rules read."""

from __future__ import annotations

from typing import Any

import msgspec

from backend.db.json import loaded
from backend.supervision.fences import schemas as g


def zones_out(features: list[dict]) -> g.ZonesOut:
    """Stored zone Features (validated when saved) as the typed collection; unknown members are left out."""
    return g.ZonesOut([msgspec.convert(f, g.ZoneFeatureOut, strict=False) for f in features])


def zones_in(data: g.FeatureCollectionIn | g.FeatureIn) -> dict[str, Any]:
    """The body as a FeatureCollection of plain Features (a single Feature becomes a collection of one)."""
    body = msgspec.to_builtins(data)
    return body if body["type"] == "FeatureCollection" else {"type": "FeatureCollection", "features": [body]}


def area_in(data: Any) -> dict[str, Any] | None:
    return None if data is None else msgspec.to_builtins(data)


def events_out(events: list[dict]) -> list[g.FenceEventOut]:
    return [msgspec.convert(e, g.FenceEventOut, strict=False) for e in events]


def track_out(track) -> g.TrackOut:
    fixes = [
        g.TrackFixOut(f["t"], f["latitude"], f["longitude"], f["accuracy_m"], f["flags"]) for f in track.fixes
    ]
    events = [
        g.TrackEventOut(
            e.id,
            e.kind,
            e.at,
            e.zone_id,
            e.severity,
            e.reason,
            msgspec.convert(loaded(e.fixes, []), list[g.EventFixOut], strict=False),
            e.ledger_entry,
        )
        for e in track.events
    ]
    return g.TrackOut(fixes, events, track.next_cursor)
