"""Console API for supervision: measures, board, time limits, decisions, tasks (live alerts: live/)."""

from __future__ import annotations

import base64
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from backend import i18n
from backend.biometrics.services import Biometrics
from backend.core.errors import InvalidInput
from backend.supervision import convert as c
from backend.supervision import lists, reads
from backend.supervision import page_schemas as pages
from backend.supervision import schemas as s
from backend.supervision import timeline as history

# The agency-wide half lives beside it; console_routes imports both from here.
from backend.supervision.agency_controllers import SupervisionController  # noqa: E402
from backend.supervision.measures import services as measures
from backend.supervision.measures.ending import end_measure
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor

__all__ = ["MeasureController", "SupervisionController"]


class MeasureController(Controller):
    path = "/measures"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @post("/", operation_id="placeMeasure")
    async def place(self, principal: CurrentPrincipal, data: JSONBody[s.MeasureIn]) -> s.MeasureOut:
        """Place a person under bail, residential surveillance or community correction."""
        plan = {
            "kind": data.checkin_plan.kind,
            "times": data.checkin_plan.times,
            "weekdays": data.checkin_plan.weekdays,
            "window_minutes": data.checkin_plan.window_minutes,
        }
        optional = [
            {k: v for k, v in msgspec.structs.asdict(o).items() if v is not None} for o in data.obligations
        ]
        measure = await measures.create(
            principal,
            measures.NewMeasure(
                person_id=str(data.person_id),
                kind=data.kind,
                legal_basis=data.legal_basis,
                deciding_agency_id=str(data.deciding_agency_id),
                start_date=data.start_date,
                end_date=data.end_date,
                checkin_plan=plan,
                timezone=data.timezone,
                grace_minutes=data.grace_minutes,
                optional_obligations=optional,
            ),
        )
        return c.measure_out(measure, await reads.obligations(measure.id))

    @get("/{measure_id:uuid}", operation_id="getMeasure")
    async def detail(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> s.MeasureOut:
        """A measure with its obligations, score and code."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return c.measure_out(measure, await reads.obligations(measure.id))

    @get("/{measure_id:uuid}/ledger", operation_id="getMeasureLedger")
    async def ledger(
        self,
        request: Request,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.LedgerPage:
        """Every score change, oldest first; `reason_text` in the officer's language."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await lists.ledger(measure.id, cursor, limit)
        language = await i18n.language_for(principal.user_id, request.headers.get("accept-language"))
        return pages.LedgerPage([c.entry_out(e, language) for e in page.items], page.next_cursor)

    @get("/{measure_id:uuid}/timeline", operation_id="getMeasureTimeline")
    async def timeline(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.TimelinePage:
        """Everything that happened on the measure, newest first."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await history.timeline(measure.id, cursor, limit)
        items = [s.TimelineItem(i.at, i.kind, i.summary, i.ref_id) for i in page.items]
        return pages.TimelinePage(items, page.next_cursor)

    @post("/{measure_id:uuid}/face-enrolment", operation_id="enrolFace")
    async def enrol_face(
        self,
        biometrics: NamedDependency[Biometrics],
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        data: JSONBody[s.EnrolmentIn],
    ) -> s.EnrolmentOut:
        """Enrol the person's face from 3-5 photos; only the encrypted template is kept."""
        photos = [_b64(p, f"photos_jpeg_base64[{i}]") for i, p in enumerate(data.photos_jpeg_base64)]
        record = await biometrics.enrol(principal, str(measure_id), photos)
        return s.EnrolmentOut(record.person, record.enrolled_at, record.model)

    @post("/{measure_id:uuid}/end", operation_id="endMeasure", status_code=HTTP_200_OK)
    async def end(
        self,
        biometrics: NamedDependency[Biometrics],
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        data: JSONBody[s.EndMeasureIn],
    ) -> s.MeasureOut:
        """End the measure; the person's face template is purged at once."""
        measure = await end_measure(principal, str(measure_id), data.reason, biometrics)
        return c.measure_out(measure, await reads.obligations(measure.id))


def _b64(text: str, field: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidInput(field, "is not base64") from None
    if not data:
        raise InvalidInput(field, "is empty: send a photo")
    return data
