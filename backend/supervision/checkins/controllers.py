"""Console API for a measure's check-ins: the check-ins and windows lists, an unannounced window."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from backend.supervision import lists
from backend.supervision import page_schemas as pages
from backend.supervision.checkins import convert as c
from backend.supervision.checkins import random_checks
from backend.supervision.checkins import schemas as s
from backend.supervision.measures import services as measures
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor


class MeasureCheckinController(Controller):
    path = "/measures"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @get("/{measure_id:uuid}/checkins", operation_id="getMeasureCheckins")
    async def checkins(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.CheckinPage:
        """Check-ins, newest first, with outcomes and reasons."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await lists.checkins(measure.id, cursor, limit)
        return pages.CheckinPage([c.checkin_out(x) for x in page.items], page.next_cursor)

    @get("/{measure_id:uuid}/windows", operation_id="getMeasureWindows")
    async def windows(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.WindowPage:
        """Check-in windows, past and coming, by opening time."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await lists.windows(measure.id, cursor, limit, include_past=True)
        return pages.WindowPage([c.window_out(w) for w in page.items], page.next_cursor)

    @post("/{measure_id:uuid}/random-checkins", operation_id="openRandomCheckin")
    async def random_checkin(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.RandomCheckinIn]
    ) -> s.WindowOut:
        """Open a short unannounced check-in window now (CPL art. 78); the person is notified at once."""
        measure = await measures.require_supervisor(principal, measure_id)
        return c.window_out(await random_checks.open_random_window(measure, principal.actor, data.minutes))
