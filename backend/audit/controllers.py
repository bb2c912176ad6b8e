"""Console API over the audit chain."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from backend.audit.trail import AuditTrail
from backend.web.deps import BEARER, STAFF, CurrentPrincipal, PageLimit


class AuditEntryOut(msgspec.Struct):
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    agency_id: str | None
    request_id: str | None
    change_digest: str
    row_hash: str


class AuditPage(msgspec.Struct):
    items: list[AuditEntryOut]
    next_cursor: str | None


class ChainStatus(msgspec.Struct):
    ok: bool
    rows: int
    first_broken_seq: int | None
    reason: str | None


class AuditController(Controller):
    path = "/audit"
    tags = ["console: audit"]
    dependencies = STAFF
    security = BEARER

    @get("/", operation_id="listAudit")
    async def list_entries(
        self,
        audit: NamedDependency[AuditTrail],
        principal: CurrentPrincipal,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
    ) -> AuditPage:
        """Audit rows this caller may read, newest first (administrators and prosecutors)."""
        page = await audit.entries(principal, object_type, object_id, cursor, limit)
        return AuditPage([msgspec.convert(row, AuditEntryOut) for row in page.items], page.next_cursor)

    @get("/verify", operation_id="verifyAudit")
    async def verify(self, audit: NamedDependency[AuditTrail], principal: CurrentPrincipal) -> ChainStatus:
        """Walk the whole chain and report the first broken row (platform administrators)."""
        result = await audit.verify(principal)
        return ChainStatus(result.ok, result.rows, result.first_broken_seq, result.reason)
