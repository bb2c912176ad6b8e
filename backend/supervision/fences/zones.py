"""Zones an officer draws for a measure (allowed areas, forbidden places, curfews), as GeoJSON features:
validated by geofence, stored with the key of their shape's content, replaced as one drawing."""

from __future__ import annotations

import json

import geofence
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.crypto import sha256_hex
from backend.core.errors import InvalidInput
from backend.db.engine import write_tx
from backend.db.json import loaded
from backend.supervision.fences.allowed_areas import bump_fences_version
from backend.supervision.fences.tables import FenceZone
from backend.supervision.measures.services import require_supervisor


def _zone(feature: dict, zone_id: str, index: int = 0) -> dict:
    feature = dict(feature) | {"id": zone_id}
    try:
        geofence.zone_from_geojson(feature, f"features[{index}]")
    except geofence.ZoneError as exc:  # its path names the field, its reason says what is wrong
        raise InvalidInput(exc.path or f"features[{index}]", exc.reason) from None
    return feature


async def set_zones(principal: Principal, measure_id: str, collection: dict) -> list[FenceZone]:
    """Replace the measure's zones with a FeatureCollection (the officer's edited drawing)."""
    measure = await require_supervisor(principal, measure_id)
    features = collection.get("features") if isinstance(collection, dict) else None
    if collection.get("type") != "FeatureCollection" or not isinstance(features, list) or not features:
        raise InvalidInput("features", "send a GeoJSON FeatureCollection with at least one zone")
    if len(features) > 50:
        raise InvalidInput("features", "at most 50 zones per measure")
    rows = [zone_row(measure.id, feature, principal.user_id, index) for index, feature in enumerate(features)]
    saved_at = utcnow()  # one time for the whole drawing: the timeline shows it as one change
    for row in rows:
        row.created_at = saved_at
    async with write_tx():
        await FenceZone.update({FenceZone.active: False}).where(
            (FenceZone.measure == measure.id) & (FenceZone.active == True)  # noqa: E712
        )
        await FenceZone.insert(*rows)
        await bump_fences_version(measure.id)
        await audit.record(
            principal.actor,
            "zones.replaced",
            "measure",
            measure.id,
            {"zones": [r.feature for r in rows]},
            measure.executing_agency,
        )
    return rows


def zone_row(measure_id: object, feature: dict, created_by: str, index: int = 0) -> FenceZone:
    """A validated zone row, keyed by its shape's content."""
    row = FenceZone(measure=measure_id, feature={}, created_by=created_by)
    row.feature = _zone(feature, str(row.id), index)
    row.shape_key = shape_key(row.feature)
    return row


def shape_key(feature: dict) -> str:
    return sha256_hex(json.dumps({k: v for k, v in feature.items() if k != "id"}, sort_keys=True))


async def zones_of(measure_id: object) -> list[dict]:
    rows = (
        await FenceZone.select(FenceZone.feature)
        .where(
            (FenceZone.measure == measure_id) & (FenceZone.active == True)  # noqa: E712
        )
        .order_by(FenceZone.created_at)
    )
    return [loaded(r["feature"]) for r in rows]
