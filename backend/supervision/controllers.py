"""Console API for supervision: measures, board, time limits, decisions, tasks (live alerts: live/)."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from backend.biometrics.services import end_measure
from backend.core.errors import InvalidInput
from backend.db.json import loaded
from backend.supervision import (
    checkins,
    deadlines,
    decisions,
    measures,
    policy,
    reads,
    summonses,
    transfers,
    zones,
)
from backend.supervision import convert as c
from backend.supervision import schemas as s
from backend.supervision import track as tracks
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit


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
    async def ledger(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> list[s.LedgerEntryOut]:
        """Every score change, oldest first."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [c.entry_out(e) for e in await reads.ledger_of(measure.id)]

    @get("/{measure_id:uuid}/checkins", operation_id="getMeasureCheckins")
    async def checkins(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> list[s.CheckinOut]:
        """Check-ins, newest first, with outcomes and reasons."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [c.checkin_out(x) for x in await reads.checkins_of(measure.id)]

    @get("/{measure_id:uuid}/windows", operation_id="getMeasureWindows")
    async def windows(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> list[s.WindowOut]:
        """Check-in windows, past and coming."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [c.window_out(w) for w in await reads.windows_of(measure.id, include_past=True)]

    @get("/{measure_id:uuid}/timeline", operation_id="getMeasureTimeline")
    async def timeline(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> list[s.TimelineItem]:
        """Everything that happened on the measure, newest first."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [s.TimelineItem(**item) for item in await reads.timeline(measure.id)]

    @get("/{measure_id:uuid}/contests", operation_id="getMeasureContests")
    async def contests(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> list[s.ContestOut]:
        """Contested ledger entries."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [c.contest_out(x) for x in await reads.contests_of(measure.id)]

    @get("/{measure_id:uuid}/travel-requests", operation_id="getMeasureTravel")
    async def travel(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> list[s.TravelOut]:
        """Travel requests and their decisions."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [c.travel_out(t) for t in await reads.travel_of(measure.id)]

    @post("/{measure_id:uuid}/random-checkins", operation_id="openRandomCheckin")
    async def random_checkin(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.RandomCheckinIn]
    ) -> s.WindowOut:
        """Open a short unannounced check-in window now (CPL art. 78); the person is notified at once."""
        measure = await measures.require_supervisor(principal, measure_id)
        return c.window_out(await checkins.open_random_window(measure, principal.actor, data.minutes))

    @post(
        "/{measure_id:uuid}/ledger/{entry_id:int}/excuse", operation_id="excuseLedgerEntry", status_code=200
    )
    async def excuse(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        entry_id: FromPath[int],
        data: JSONBody[s.ExcuseIn],
    ) -> s.LedgerEntryOut:
        """Excuse a deduction with a written reason; the points come back as a new ledger row."""
        return c.entry_out(await decisions.excuse(principal, str(measure_id), entry_id, data.reason))

    @post("/{measure_id:uuid}/violations", operation_id="recordViolation")
    async def violation(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.ViolationIn]
    ) -> s.LedgerEntryOut:
        """Record a violation the system cannot see: missed summons, unapproved travel, address change."""
        entry = await decisions.record_violation(
            principal, str(measure_id), data.rule_id, data.reason, data.evidence_ref
        )
        return c.entry_out(entry)

    @post("/{measure_id:uuid}/face-enrolment", operation_id="enrolFace")
    async def enrol_face(
        self,
        request: Request,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        data: JSONBody[s.EnrolmentIn],
    ) -> s.EnrolmentOut:
        """Enrol the person's face from 3-5 photos; only the encrypted template is kept."""
        photos = [_b64(p, f"photos_jpeg_base64[{i}]") for i, p in enumerate(data.photos_jpeg_base64)]
        record = await request.app.state.services.biometrics.enrol(principal, str(measure_id), photos)
        return s.EnrolmentOut(record.person, record.enrolled_at, record.model)

    @post("/{measure_id:uuid}/end", operation_id="endMeasure", status_code=HTTP_200_OK)
    async def end(
        self,
        request: Request,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        data: JSONBody[s.EndMeasureIn],
    ) -> s.MeasureOut:
        """End the measure; the person's face template is purged at once."""
        measure = await end_measure(
            principal, str(measure_id), data.reason, request.app.state.services.biometrics
        )
        return c.measure_out(measure, await reads.obligations(measure.id))

    @put("/{measure_id:uuid}/zones", operation_id="setMeasureZones")
    async def set_zones(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.FeatureCollectionIn]
    ) -> dict:
        """Replace the measure's zones (allowed areas, forbidden places, curfews): a FeatureCollection."""
        rows = await zones.set_zones(
            principal, str(measure_id), {"type": data.type, "features": data.features}
        )
        return {"type": "FeatureCollection", "features": [r.feature for r in rows]}

    @get("/{measure_id:uuid}/zones", operation_id="getMeasureZones")
    async def zones(self, principal: CurrentPrincipal, measure_id: FromPath[UUID]) -> dict:
        """The measure's active zones as a GeoJSON FeatureCollection."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return {"type": "FeatureCollection", "features": await zones.zones_of(measure.id)}

    @get("/{measure_id:uuid}/track", operation_id="getMeasureTrack")
    async def track(
        self,
        principal: CurrentPrincipal,
        measure_id: FromPath[UUID],
        start: FromQuery[datetime],
        end: FromQuery[datetime],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = tracks.TRACK_PAGE,
    ) -> s.TrackOut:
        """The person's fixes and fence events between start and end (at most 31 days). Fixes come in pages
        of `limit`; `next_cursor` asks for the rest. Events, which are few, all come on the first page."""
        track = await tracks.track(principal, str(measure_id), start, end, cursor, limit)
        return s.TrackOut(
            [
                {
                    "t": f["t"].isoformat(),
                    "lat": f["latitude"],
                    "lon": f["longitude"],
                    "accuracy_m": f["accuracy_m"],
                    "flags": f["flags"],
                }
                for f in track.fixes
            ],
            [
                {
                    "id": str(e.id),
                    "kind": e.kind,
                    "at": e.at.isoformat(),
                    "zone_id": e.zone_id,
                    "severity": e.severity,
                    "reason": e.reason,
                    "fixes": loaded(e.fixes, []),
                    "ledger_entry": e.ledger_entry,
                }
                for e in track.events
            ],
            track.next_cursor,
        )

    @post("/{measure_id:uuid}/summonses", operation_id="issueSummons")
    async def summon(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID], data: JSONBody[s.SummonsIn]
    ) -> s.SummonsOut:
        """Summon the person to appear; they are told at once and reminded 24 h and 1 h ahead."""
        item = await summonses.summon(principal, str(measure_id), data.at, data.place, data.purpose)
        return c.summons_out(item)

    @get("/{measure_id:uuid}/summonses", operation_id="getMeasureSummonses")
    async def summonses_of(
        self, principal: CurrentPrincipal, measure_id: FromPath[UUID]
    ) -> list[s.SummonsOut]:
        """The measure's summonses and their outcomes."""
        measure = await measures.require_staff_measure(principal, measure_id)
        return [c.summons_out(x) for x in await summonses.for_measure(measure.id)]

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


def _b64(text: str, field: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidInput(field, "is not base64") from None
    if not data:
        raise InvalidInput(field, "is empty: send a photo")
    return data


class SupervisionController(Controller):
    path = "/"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @get("/supervision/board", operation_id="supervisionBoard")
    async def board(
        self,
        principal: CurrentPrincipal,
        code: FromQuery[str | None] = None,
        agency_id: FromQuery[UUID | None] = None,
        due_within_days: FromQuery[int | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
    ) -> s.BoardPage:
        """Active measures this caller supervises, filterable by code, agency and due date."""
        if due_within_days is not None and not 0 <= due_within_days <= 3660:
            raise InvalidInput("due_within_days", "must be 0-3660")
        page = await reads.board(
            principal, code, str(agency_id) if agency_id else None, due_within_days, cursor, limit
        )
        return s.BoardPage([c.board_row(r) for r in page.items], page.next_cursor)

    @get("/supervision/deadlines", operation_id="deadlineBoard")
    async def deadlines(
        self, principal: CurrentPrincipal, inactive_days: FromQuery[int] = 14
    ) -> s.DeadlineBoard:
        """Measures ending within 30, 7 or 1 days, overdue ones, and cases with no activity for N days."""
        if not 1 <= inactive_days <= 3650:
            raise InvalidInput("inactive_days", "must be 1-3650")
        b = await deadlines.board(principal, inactive_days)
        return s.DeadlineBoard(b.ending[1], b.ending[7], b.ending[30], b.overdue, b.inactive)

    @get("/tasks", operation_id="listTasks")
    async def tasks(self, principal: CurrentPrincipal, status: FromQuery[str] = "open") -> list[s.TaskOut]:
        """The caller's agency's tasks."""
        return [c.task_out(t) for t in await reads.tasks_for(principal, status)]

    @get("/alerts", operation_id="listAlerts")
    async def alerts(self, principal: CurrentPrincipal) -> list[s.AlertOut]:
        """The caller's agency's alerts, newest first."""
        return [c.alert_out(a) for a in await reads.alerts_for(principal)]

    @get("/transfers/incoming", operation_id="incomingTransfers")
    async def incoming(self, principal: CurrentPrincipal) -> list[s.TransferOut]:
        """Records waiting for this agency to accept them."""
        return [c.transfer_out(t) for t in await transfers.incoming(principal)]

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

    @put("/agencies/{agency_id:uuid}/rules/{rule_id:str}", operation_id="setAgencyRule")
    async def set_rule(
        self,
        principal: CurrentPrincipal,
        agency_id: FromPath[UUID],
        rule_id: FromPath[str],
        data: JSONBody[s.RuleIn],
    ) -> dict:
        """Override a scoring rule for this agency (a new version)."""
        rule = await policy.set_rule(principal, str(agency_id), rule_id, data.points)
        return {"rule_id": rule.rule_id, "points": rule.points, "version": rule.version}

    @put("/agencies/{agency_id:uuid}/privacy", operation_id="setAgencyPrivacy")
    async def set_privacy(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID], data: JSONBody[s.PrivacyIn]
    ) -> dict:
        """Whether raw face photos are kept (off by default; encrypted templates are always kept)."""
        p = await policy.set_keep_face_images(principal, str(agency_id), data.keep_face_images)
        return {"keep_face_images": p.keep_face_images}

    @get("/agencies/{agency_id:uuid}/handling-plan", operation_id="getHandlingPlan")
    async def get_handling_plan(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID]
    ) -> s.HandlingPlanOut:
        """What a yellow or red code sets in motion at this agency."""
        return s.HandlingPlanOut(**(await policy.handling_plan(principal, str(agency_id))).to_json())

    @put("/agencies/{agency_id:uuid}/handling-plan", operation_id="setHandlingPlan")
    async def set_handling_plan(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID], data: JSONBody[s.HandlingPlanIn]
    ) -> s.HandlingPlanOut:
        """Change some of the agency's handling-plan settings (agency administrator)."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        if not changes:
            raise InvalidInput("body", "send at least one setting to change")
        plan = await policy.set_handling_plan(principal, str(agency_id), changes)
        return s.HandlingPlanOut(**plan.to_json())

    @put("/agencies/{agency_id:uuid}/thresholds", operation_id="setAgencyThresholds")
    async def set_thresholds(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID], data: JSONBody[s.ThresholdsIn]
    ) -> dict:
        """Change the agency's green and yellow thresholds."""
        p = await policy.set_thresholds(principal, str(agency_id), data.green_min, data.yellow_min)
        return {"green_min": p.green_min, "yellow_min": p.yellow_min}
