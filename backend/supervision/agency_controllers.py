"""Console API for supervision across measures: the board, time limits, tasks, alerts, transfers,
decisions on requests and the agency's rules."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, get, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.errors import InvalidInput
from backend.supervision import agency_schemas as a
from backend.supervision import convert as c
from backend.supervision import lists, reads
from backend.supervision import page_schemas as pages
from backend.supervision import schemas as s
from backend.supervision.deadlines import board as deadlines
from backend.supervision.ledger import agency_policy as policy
from backend.supervision.vocab import Code, TaskStatus
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor


class SupervisionController(Controller):
    path = "/"
    tags = ["console: supervision"]
    dependencies = STAFF
    security = BEARER

    @get("/supervision/board", operation_id="supervisionBoard")
    async def board(
        self,
        principal: CurrentPrincipal,
        code: FromQuery[Code | None] = None,
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
    ) -> a.DeadlineBoard:
        """Measures ending within 30, 7 or 1 days, overdue ones, and cases with no activity for N days."""
        if not 1 <= inactive_days <= 3650:
            raise InvalidInput("inactive_days", "must be 1-3650")
        b = await deadlines.board(principal, inactive_days)
        rows = c.deadline_rows
        return a.DeadlineBoard(
            rows(b.ending[1]), rows(b.ending[7]), rows(b.ending[30]), rows(b.overdue), rows(b.inactive)
        )

    @get("/tasks", operation_id="listTasks")
    async def tasks(
        self,
        principal: CurrentPrincipal,
        status: FromQuery[TaskStatus] = "open",
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> pages.TaskPage:
        """The caller's agency's tasks of one status, newest first."""
        page = await lists.tasks(principal, status, cursor, limit)
        return pages.TaskPage([c.task_out(t) for t in page.items], page.next_cursor)

    @get("/alerts", operation_id="listAlerts")
    async def alerts(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.AlertPage:
        """The caller's agency's alerts, newest first."""
        page = await lists.alerts(principal, cursor, limit)
        return pages.AlertPage([c.alert_out(a) for a in page.items], page.next_cursor)

    @put("/agencies/{agency_id:uuid}/rules/{rule_id:str}", operation_id="setAgencyRule")
    async def set_rule(
        self,
        principal: CurrentPrincipal,
        agency_id: FromPath[UUID],
        rule_id: FromPath[str],
        data: JSONBody[a.RuleIn],
    ) -> a.RuleOut:
        """Override a scoring rule for this agency (a new version)."""
        rule = await policy.set_rule(principal, str(agency_id), rule_id, data.points)
        return a.RuleOut(rule.rule_id, rule.points, rule.version)

    @put("/agencies/{agency_id:uuid}/privacy", operation_id="setAgencyPrivacy")
    async def set_privacy(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID], data: JSONBody[a.PrivacyIn]
    ) -> a.PrivacyOut:
        """Whether raw face photos are kept (off by default; encrypted templates are always kept)."""
        p = await policy.set_keep_face_images(principal, str(agency_id), data.keep_face_images)
        return a.PrivacyOut(p.keep_face_images)

    @get("/agencies/{agency_id:uuid}/handling-plan", operation_id="getHandlingPlan")
    async def get_handling_plan(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID]
    ) -> a.HandlingPlanOut:
        """What a yellow or red code sets in motion at this agency."""
        return a.HandlingPlanOut(**(await policy.handling_plan(principal, str(agency_id))).to_json())

    @put("/agencies/{agency_id:uuid}/handling-plan", operation_id="setHandlingPlan")
    async def set_handling_plan(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID], data: JSONBody[a.HandlingPlanIn]
    ) -> a.HandlingPlanOut:
        """Change some of the agency's handling-plan settings (agency administrator)."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        if not changes:
            raise InvalidInput("body", "send at least one setting to change")
        plan = await policy.set_handling_plan(principal, str(agency_id), changes)
        return a.HandlingPlanOut(**plan.to_json())

    @put("/agencies/{agency_id:uuid}/thresholds", operation_id="setAgencyThresholds")
    async def set_thresholds(
        self, principal: CurrentPrincipal, agency_id: FromPath[UUID], data: JSONBody[a.ThresholdsIn]
    ) -> a.ThresholdsOut:
        """Change the agency's green and yellow thresholds."""
        p = await policy.set_thresholds(principal, str(agency_id), data.green_min, data.yellow_min)
        return a.ThresholdsOut(p.green_min, p.yellow_min)
