"""The supervised person's places: location uploads and my zones on the map."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from backend.supervision.fences import geo_convert as geo
from backend.supervision.fences import schemas as g
from backend.supervision.fences import uploads as locations
from backend.supervision.fences import zones
from backend.supervision.measures import services as measures
from backend.web.deps import BEARER, PHONE, CurrentPrincipal


class MyPlacesController(Controller):
    path = "/"
    tags = ["phone: supervision"]
    dependencies = PHONE
    security = BEARER

    @post("/locations", operation_id="uploadLocations")
    async def locations(
        self, principal: CurrentPrincipal, data: JSONBody[g.LocationBatchIn]
    ) -> g.LocationBatchOut:
        """Upload a batch of fixes (offline-buffered ones keep their times); idempotent per device_seq."""
        fixes = [
            {"t": f.t, "lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m, "mock": f.mock}
            for f in data.fixes
        ]
        result = await locations.upload(principal, data.device_seq, fixes)
        return g.LocationBatchOut(
            result["accepted"],
            result["flagged"],
            geo.events_out(result["events"]),
            result["replayed"],
            result.get("duplicates", 0),
        )

    @get("/measure/zones", operation_id="myZones")
    async def zones(self, principal: CurrentPrincipal) -> g.ZonesOut:
        """My allowed areas and forbidden places, to show on the map."""
        measure = await measures.my_measure(principal)
        return geo.zones_out(await zones.zones_of(measure.id))
