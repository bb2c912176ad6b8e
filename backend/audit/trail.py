"""The audit chain as the console reads it: one object, provided to handlers like every other service.

The chain itself is written by `backend.audit.services.record` inside each change's transaction; this
is the reading side, with the rule on who may check the whole chain.
"""

from __future__ import annotations

from backend.accounts.principal import Principal
from backend.audit.reading import require_chain_reader
from backend.audit.services import VerifyResult, read_entries, verify_chain
from backend.core.pagination import Page


class AuditTrail:
    async def entries(
        self,
        principal: Principal,
        object_type: str | None,
        object_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """Rows this caller may read, newest first."""
        return await read_entries(principal, object_type, object_id, cursor, limit)

    async def verify(self, principal: Principal) -> VerifyResult:
        """Walk the whole chain (platform administrators only)."""
        require_chain_reader(principal)
        return await verify_chain()
