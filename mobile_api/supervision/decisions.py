"""The supervised person's requests and what was decided on them: contests, travel, summonses."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from backend.ops.storage import LocalFileStore
from backend.supervision import lists
from backend.supervision import page_schemas as pages
from backend.supervision.decisions import contests_and_travel as decisions
from backend.supervision.decisions import convert as c
from backend.supervision.decisions import schemas as s
from backend.supervision.fences import geo_convert as geo
from backend.supervision.fences.geojson_in import area_geometry
from backend.supervision.measures import services as measures
from backend.web.deps import BEARER, PHONE, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor


class MyRequestController(Controller):
    path = "/"
    tags = ["phone: supervision"]
    dependencies = PHONE
    security = BEARER

    @post("/ledger/{entry_id:int}/contests", operation_id="contestLedgerEntry")
    async def contest(
        self,
        storage: NamedDependency[LocalFileStore],
        principal: CurrentPrincipal,
        entry_id: FromPath[int],
        data: JSONBody[s.ContestIn],
    ) -> s.ContestOut:
        """Contest a deduction with an explanation and up to five files; an officer decides."""
        files = [(f.name, f.content_base64) for f in data.files]
        item = await decisions.contest(principal, entry_id, data.text, files, storage)
        return c.contest_out(item)

    @get("/contests", operation_id="myContests")
    async def contests(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.ContestPage:
        """My contests and their decisions, oldest first."""
        measure = await measures.my_measure(principal)
        page = await lists.contests(measure.id, cursor, limit)
        return pages.ContestPage([c.contest_out(x) for x in page.items], page.next_cursor)

    @post("/travel-requests", operation_id="requestTravel")
    async def travel(self, principal: CurrentPrincipal, data: JSONBody[s.TravelIn]) -> s.TravelOut:
        """Ask to leave the allowed area: dates, destination (optionally its area: a GeoJSON Polygon or
        MultiPolygon, or a Feature of one) and reason."""
        area = geo.area_in(data.destination_area)
        if area is not None:
            area = area_geometry(area, "destination_area")
        trip = await decisions.request_travel(
            principal, data.depart_on, data.return_on, data.destination, area, data.reason
        )
        return c.travel_out(trip)

    @get("/travel-requests", operation_id="myTravel")
    async def my_travel(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.TravelPage:
        """My travel requests, oldest first."""
        measure = await measures.my_measure(principal)
        page = await lists.travel(measure.id, cursor, limit)
        return pages.TravelPage([c.travel_out(t) for t in page.items], page.next_cursor)

    @get("/summonses", operation_id="mySummonses")
    async def summonses(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.SummonsPage:
        """When and where I am summoned to appear, by date."""
        measure = await measures.my_measure(principal)
        page = await lists.summonses(measure.id, cursor, limit)
        return pages.SummonsPage([c.summons_out(x) for x in page.items], page.next_cursor)
