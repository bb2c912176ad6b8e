"""Live alerts: a single-use ticket opens the socket, and the socket's session is re-checked while it runs.

Browsers cannot set an Authorization header on a websocket, and a token in its URL ends up in access logs
and proxies. So a staff member first POSTs for a ticket (authenticated as any request is), and the socket
URL carries that: it is worth one connection within TICKET_SECONDS, and names the session, not the user.
An open socket stands for its session only as long as that session lives: `session_problem` says why it
ended (logout, idle, time limit, disabled account), and the socket closes.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from uuid import UUID

from backend.accounts.principal import Principal
from backend.accounts.roles import STAFF_ROLES
from backend.core.clock import as_utc, utcnow
from backend.core.crypto import sha256_hex
from backend.core.errors import Forbidden, NotAuthenticated
from backend.db.engine import write_tx
from backend.settings import AuthSettings
from backend.supervision.handling.live import store

TICKET_SECONDS = 30


def require_staff(principal: Principal) -> None:
    if principal.role not in STAFF_ROLES:
        raise Forbidden("Live alerts are for staff accounts")


async def issue_ticket(principal: Principal) -> tuple[str, int]:
    require_staff(principal)
    ticket = secrets.token_urlsafe(32)
    now = utcnow()
    async with write_tx():
        await store.insert_ticket(
            sha256_hex(ticket), UUID(principal.session_id), now + timedelta(seconds=TICKET_SECONDS), now
        )
    return ticket, TICKET_SECONDS


async def claim_ticket(ticket: str) -> str:
    """The session id the ticket was issued to; a ticket works once, and only while it is fresh."""
    if not ticket or len(ticket) > 100:
        raise NotAuthenticated("Unknown or used ticket; ask for a new one")
    async with write_tx():
        row = await store.claim_ticket(sha256_hex(ticket))
    if row is None:
        raise NotAuthenticated("Unknown or used ticket; ask for a new one")
    if as_utc(row["expires_at"]) <= utcnow():
        raise NotAuthenticated("The ticket expired; ask for a new one")
    return str(row["session"])


async def session_principal(auth: AuthSettings, session_id: str) -> Principal:
    """The staff member of a live session, for the socket a ticket opened."""
    row = await store.session_state(UUID(session_id))
    if problem := _problem(auth, row):
        raise NotAuthenticated(problem)
    principal = Principal(
        user_id=str(row["user"]),
        role=row["role"],
        session_id=str(row["id"]),
        agency_id=str(row["agency"]) if row["agency"] else None,
        region_code=row["region_code"],
        channel=row["channel"],
    )
    require_staff(principal)
    return principal


async def session_problem(auth: AuthSettings, session_id: str) -> str | None:
    """Why the session can no longer receive alerts, or None while it lives."""
    return _problem(auth, await store.session_state(UUID(session_id)))


def _problem(auth: AuthSettings, row: dict | None) -> str | None:
    """The rules of SessionService.authenticate, read by session id. An open socket does not count as
    activity: a console left open and unused goes idle like any other."""
    now = utcnow()
    if row is None or row["revoked_at"] is not None:
        return "The session has ended; log in again"
    if not row["active"]:
        return "The account is disabled"
    if as_utc(row["expires_at"]) <= now:
        return "The session reached its time limit; log in again"
    idle = auth.officer_idle_seconds if row["channel"] == "console" else auth.mobile_idle_seconds
    if (now - as_utc(row["last_seen_at"])).total_seconds() > idle:
        return "The session was idle too long; log in again"
    return None


async def alerts_after(after: UUID, agencies: list[UUID] | None, limit: int) -> list[dict]:
    """The alerts a socket may see with an id above `after`, in id order (None: every agency's)."""
    return await store.alerts_after(after, agencies, limit)
