"""Console API for a measure's places: its zones (GeoJSON) and the person's track."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, get, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.supervision.fences import geo_convert as geo
from backend.supervision.fences import schemas as g
from backend.supervision.fences import track as tracks
from backend.supervision.fences import zones
from backend.supervision.measures import services as measures
from backend.web.deps import BEARER, STAFF, CurrentPrincipal


class MeasurePlacesController(Controller):
    path = "/measures"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @put("/{measure_id:uuid}/zones", operation_id="setMeasureZones")
    async def set_zones(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[g.ZonesIn]
    ) -> g.ZonesOut:
        """Replace the measure's zones (allowed areas, forbidden places, curfews): a FeatureCollection, or
        one Feature for a single zone."""
        rows = await zones.set_zones(principal, str(measure_id), geo.zones_in(data))
        return geo.zones_out([r.feature for r in rows])

    @get("/{measure_id:uuid}/zones", operation_id="getMeasureZones")
    async def zones(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> g.ZonesOut:
        """The measure's active zones as a GeoJSON FeatureCollection."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return geo.zones_out(await zones.zones_of(measure.id))

    @get("/{measure_id:uuid}/track", operation_id="getMeasureTrack")
    async def track(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        start: FromQuery[datetime],
        end: FromQuery[datetime],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = tracks.TRACK_PAGE,
    ) -> g.TrackOut:
        """The person's fixes and fence events between start and end (at most 31 days). Fixes come in pages
        of `limit`; `next_cursor` asks for the rest. Events, which are few, all come on the first page."""
        return geo.track_out(await tracks.track(principal, str(measure_id), start, end, cursor, limit))
