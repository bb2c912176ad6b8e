"""Console API for officers' decisions: contests, travel, summonses, transfers, excuses and recorded
violations (a measure's, then the agency's queues and decisions)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from backend.supervision import lists
from backend.supervision import page_schemas as pages
from backend.supervision.convert import entry_out
from backend.supervision.decisions import contests_and_travel as decisions
from backend.supervision.decisions import convert as c
from backend.supervision.decisions import schemas as s
from backend.supervision.decisions import summonses, transfers
from backend.supervision.measures import services as measures
from backend.supervision.schemas import LedgerEntryOut
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor


class MeasureDecisionController(Controller):
    path = "/measures"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @get("/{measure_id:uuid}/contests", operation_id="getMeasureContests")
    async def contests(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.ContestPage:
        """Contested ledger entries, oldest first."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await lists.contests(measure.id, cursor, limit)
        return pages.ContestPage([c.contest_out(x) for x in page.items], page.next_cursor)

    @get("/{measure_id:uuid}/travel-requests", operation_id="getMeasureTravel")
    async def travel(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.TravelPage:
        """Travel requests and their decisions, oldest first."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await lists.travel(measure.id, cursor, limit)
        return pages.TravelPage([c.travel_out(t) for t in page.items], page.next_cursor)

    @post(
        "/{measure_id:uuid}/ledger/{entry_id:int}/excuse", operation_id="excuseLedgerEntry", status_code=200
    )
    async def excuse(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        entry_id: FromPath[int],
        data: JSONBody[s.ExcuseIn],
    ) -> LedgerEntryOut:
        """Excuse a deduction with a written reason; the points come back as a new ledger row."""
        return entry_out(await decisions.excuse(principal, str(measure_id), entry_id, data.reason))

    @post("/{measure_id:uuid}/violations", operation_id="recordViolation")
    async def violation(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.ViolationIn]
    ) -> LedgerEntryOut:
        """Record a violation the system cannot see: missed summons, unapproved travel, address change."""
        entry = await decisions.record_violation(
            principal, str(measure_id), data.rule_id, data.reason, data.evidence_ref
        )
        return entry_out(entry)

    @post("/{measure_id:uuid}/summonses", operation_id="issueSummons")
    async def summon(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.SummonsIn]
    ) -> s.SummonsOut:
        """Summon the person to appear; they are told at once and reminded 24 h and 1 h ahead."""
        item = await summonses.summon(principal, str(measure_id), data.at, data.place, data.purpose)
        return c.summons_out(item)

    @get("/{measure_id:uuid}/summonses", operation_id="getMeasureSummonses")
    async def summonses_of(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.SummonsPage:
        """The measure's summonses and their outcomes, by date."""
        measure = await measures.require_staff_measure(principal, measure_id)
        page = await lists.summonses(measure.id, cursor, limit)
        return pages.SummonsPage([c.summons_out(x) for x in page.items], page.next_cursor)

    @post("/{measure_id:uuid}/transfers", operation_id="requestTransfer")
    async def transfer(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.TransferIn]
    ) -> s.TransferOut:
        """Hand the supervision record to the next stage's agency (it must accept)."""
        return c.transfer_out(
            await transfers.request(
                principal, str(measure_id), str(data.to_agency_id), data.to_stage, data.note
            )
        )


class DecisionController(Controller):
    path = "/"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @get("/transfers/incoming", operation_id="incomingTransfers")
    async def incoming(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.TransferPage:
        """Records waiting for this agency to accept them, oldest request first."""
        page = await lists.incoming_transfers(principal, cursor, limit)
        return pages.TransferPage([c.transfer_out(t) for t in page.items], page.next_cursor)

    @post("/transfers/{transfer_id:uuid}/decision", operation_id="decideTransfer", status_code=HTTP_200_OK)
    async def decide_transfer(
        self, principal: CurrentPrincipal, transfer_id: FromPath[UUID], data: JSONBody[s.DecisionIn]
    ) -> s.TransferOut:
        """Accept (take over supervision) or decline a transfer."""
        return c.transfer_out(await transfers.decide(principal, str(transfer_id), data.approve, data.note))

    @post(
        "/summonses/{summons_id:uuid}/outcome", operation_id="recordSummonsOutcome", status_code=HTTP_200_OK
    )
    async def summons_outcome(
        self, principal: CurrentPrincipal, summons_id: FromPath[UUID], data: JSONBody[s.SummonsOutcomeIn]
    ) -> s.SummonsOut:
        """Record whether the person appeared; a missed summons costs points (rule missed_summons)."""
        return c.summons_out(
            await summonses.record_outcome(principal, str(summons_id), data.attended, data.note)
        )

    @post("/contests/{contest_id:uuid}/decision", operation_id="decideContest", status_code=HTTP_200_OK)
    async def decide_contest(
        self, principal: CurrentPrincipal, contest_id: FromPath[UUID], data: JSONBody[s.DecisionIn]
    ) -> s.ContestOut:
        """Uphold (the entry is reversed) or reject a contest, with a reason."""
        return c.contest_out(
            await decisions.decide_contest(principal, str(contest_id), data.approve, data.note)
        )

    @post("/travel-requests/{trip_id:uuid}/decision", operation_id="decideTravel", status_code=HTTP_200_OK)
    async def decide_travel(
        self, principal: CurrentPrincipal, trip_id: FromPath[UUID], data: JSONBody[s.DecisionIn]
    ) -> s.TravelOut:
        """Approve (the allowed area widens for those dates) or deny a travel request."""
        return c.travel_out(await decisions.decide_travel(principal, str(trip_id), data.approve, data.note))
