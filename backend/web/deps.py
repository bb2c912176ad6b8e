"""Dependencies shared by controllers: the authenticated principal (checked by a guard before the body is
read) and the caller's address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.params import QueryParameter

from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, STAFF_ROLES
from backend.core.errors import Forbidden, NotAuthenticated
from backend.web.providers import services_of

_STATE_KEY = "principal"


@dataclass(frozen=True)
class Audience:
    """Who may call a route: the roles and the channel their session was opened on."""

    roles: frozenset[str]
    channel: str
    refusal: str


STAFF_AUDIENCE = Audience(frozenset(STAFF_ROLES), "console", "The console API is for staff accounts")
PHONE_AUDIENCE = Audience(
    frozenset(PHONE_ROLES), "mobile", "The phone API is for citizens and supervised persons"
)


async def authenticate(connection: ASGIConnection, audience: Audience) -> Principal:
    """The caller's live session (signature, revocation, idle and absolute limits), checked once per
    request: the principal guard, the idempotency middleware and the `principal` dependency share it."""
    state = connection.scope.setdefault("state", {})  # type: ignore[typeddict-item]
    if (cached := state.get(_STATE_KEY)) is not None:
        return cached
    header = connection.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise NotAuthenticated("Send 'Authorization: Bearer <access token>'")
    principal = await services_of(connection).sessions.authenticate(header[7:].strip())
    if principal.role not in audience.roles:
        raise Forbidden(audience.refusal)
    if principal.channel != audience.channel:  # a token is bound to the channel its session was opened on
        raise Forbidden(f"This session was opened on the {principal.channel} channel, not this one")
    state[_STATE_KEY] = principal
    return principal


async def staff_principal(request: Request) -> Principal:
    return await authenticate(request, STAFF_AUDIENCE)


async def phone_principal(request: Request) -> Principal:
    return await authenticate(request, PHONE_AUDIENCE)


_AUDIENCES = {staff_principal: STAFF_AUDIENCE, phone_principal: PHONE_AUDIENCE}


def audience_of(handler: BaseRouteHandler | None) -> Audience | None:
    """The audience of a route whose layers provide `principal` (STAFF or PHONE), else None."""
    provider = handler.resolve_dependencies().get("principal") if handler is not None else None
    return _AUDIENCES.get(provider.dependency) if provider is not None else None


async def principal_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Authenticate before anything else happens. Litestar reads and parses the body (the `data` kwarg)
    before it resolves dependencies, so as a dependency alone authentication came after a tokenless caller's
    whole body was in memory; guards run first. Websockets authenticate in their own handlers."""
    if connection.scope["type"] == "http" and (audience := audience_of(handler)) is not None:
        await authenticate(connection, audience)


def client_address(request: Request) -> str:
    """The caller's address; behind N trusted proxies, the Nth X-Forwarded-For entry from the right."""
    proxies = services_of(request).settings.trusted_proxies
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
