"""Object-level visibility, used by every service before it returns or changes a record.

Staff see records owned by their agency, by agencies of the same kind inside their jurisdiction (a city
bureau oversees its district bureaus), and records transferred to their agency. Phone users see only
their own. A platform admin (admin with no agency) sees everything. Anything else reads as 404.
"""

from __future__ import annotations

from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, Role
from backend.accounts.tables import AccessGrant, Agency


def jurisdiction_prefix(region_code: str) -> str:
    """Division codes pad with zero pairs: 330000 (province) -> 33, 330100 (city) -> 3301."""
    code = region_code
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def is_platform_admin(principal: Principal) -> bool:
    return principal.role == Role.ADMIN and principal.agency_id is None


async def visible_agency_ids(principal: Principal) -> set[str] | None:
    """Agencies whose records this caller may see; None means all."""
    if is_platform_admin(principal):
        return None
    if principal.role in PHONE_ROLES or principal.agency_id is None:
        return set()
    own = await Agency.objects().where(Agency.id == principal.agency_id).first()
    if own is None:
        return set()
    prefix = jurisdiction_prefix(own.region_code)
    subordinate = await Agency.select(Agency.id).where(
        (Agency.kind == own.kind) & Agency.region_code.like(f"{prefix}%")
    )
    return {str(own.id)} | {str(row["id"]) for row in subordinate}


async def granted(principal: Principal, object_type: str, object_id: str) -> bool:
    if principal.agency_id is None:
        return False
    return await AccessGrant.exists().where(
        (AccessGrant.object_type == object_type)
        & (AccessGrant.object_id == str(object_id))
        & (AccessGrant.agency == principal.agency_id)
    )


async def staff_can_see(
    principal: Principal, owner_agency_id: object, object_type: str, object_id: object
) -> bool:
    agencies = await visible_agency_ids(principal)
    if agencies is None:
        return True
    if owner_agency_id is not None and str(owner_agency_id) in agencies:
        return True
    return await granted(principal, object_type, str(object_id))
