"""Dependencies shared by controllers: the authenticated principal and the services on app.state."""

from __future__ import annotations

from typing import Annotated

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, STAFF_ROLES
from backend.core.errors import Forbidden, NotAuthenticated


async def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise NotAuthenticated("Send 'Authorization: Bearer <access token>'")
    return await request.app.state.sessions.authenticate(header[7:].strip())


async def staff_principal(request: Request) -> Principal:
    principal = await _principal(request)
    if principal.role not in STAFF_ROLES:
        raise Forbidden("The console API is for staff accounts")
    return principal


async def phone_principal(request: Request) -> Principal:
    principal = await _principal(request)
    if principal.role not in PHONE_ROLES:
        raise Forbidden("The phone API is for citizens and supervised persons")
    return principal


def client_address(request: Request) -> str:
    """The caller's address; behind N trusted proxies, the Nth X-Forwarded-For entry from the right."""
    proxies = request.app.state.settings.trusted_proxies
    forwarded = [
        part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies][:64]
    return request.client.host if request.client else "unknown"


STAFF = {"principal": Provide(staff_principal)}
PHONE = {"principal": Provide(phone_principal)}
BEARER = [{"BearerToken": []}]

# Named dependency marker (Litestar 3 drops inferred dependencies).
CurrentPrincipal = NamedDependency[Principal]
PageLimit = Annotated[int, QueryParameter(ge=1, le=200, description="page size")]
