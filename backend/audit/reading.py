"""Who may read which audit rows."""

from __future__ import annotations

from backend.accounts import access
from backend.accounts.principal import Principal
from backend.accounts.roles import Role
from backend.accounts.tables import Agency
from backend.core.errors import Forbidden


async def readable_agency_ids(principal: Principal) -> set[str] | None:
    """None = every row. Prosecutors supervise all agencies in their jurisdiction, of any kind."""
    if access.is_platform_admin(principal):
        return None
    if principal.role == Role.ADMIN:
        return await access.visible_agency_ids(principal) or set()
    if principal.role == Role.PROSECUTOR and principal.agency_id:
        own = await Agency.objects().where(Agency.id == principal.agency_id).first()
        prefix = access.jurisdiction_prefix(own.region_code)
        rows = await Agency.select(Agency.id).where(Agency.region_code.like(f"{prefix}%"))
        return {str(r["id"]) for r in rows}
    raise Forbidden("The audit trail is for administrators and prosecutors")


def require_chain_reader(principal: Principal) -> None:
    if not access.is_platform_admin(principal):
        raise Forbidden("Verifying the whole chain is for platform administrators")
