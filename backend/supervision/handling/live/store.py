"""Every SQL statement of live alerts: tickets, the session a socket stands for, the alerts it replays."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from backend.core.ids import uuid7
from backend.db import sql


async def insert_ticket(ticket_hash: str, session_id: str, expires_at: datetime, now: datetime) -> None:
    # Tickets nobody claimed are cleared as new ones are issued: the table holds seconds' worth of rows.
    await sql.execute("DELETE FROM live_tickets WHERE expires_at < $1", now)
    await sql.execute(
        "INSERT INTO live_tickets (id, ticket_hash, session, expires_at) VALUES ($1, $2, $3, $4)",
        uuid7(),
        ticket_hash,
        session_id,
        expires_at,
    )


async def claim_ticket(ticket_hash: str) -> dict | None:
    """Removes the ticket and returns its row, in one statement: of two sockets racing with the same ticket
    (PostgreSQL runs them side by side) exactly one gets the row, expired or not."""
    return await sql.fetch_one(
        "DELETE FROM live_tickets WHERE ticket_hash = $1 RETURNING session, expires_at", ticket_hash
    )


async def session_state(session_id: str) -> dict | None:
    return await sql.fetch_one(
        'SELECT s.id, s."user", s.channel, s.last_seen_at, s.expires_at, s.revoked_at, u.active, u.role, '
        "u.agency, u.region_code "
        'FROM auth_sessions s JOIN users u ON u.id = s."user" WHERE s.id = $1',
        session_id,
    )


_ALERT_COLUMNS = "SELECT id, measure, agency, level, message, created_at FROM alerts"


async def alerts_after(after: UUID, agencies: list[UUID] | None, limit: int) -> list[dict]:
    """The agencies' alerts (None: every agency's) with an id above `after`, in id order: the replay of a
    socket that resumes. The primary key's index serves the range."""
    if agencies is None:
        return await sql.fetch(f"{_ALERT_COLUMNS} WHERE id > $1 ORDER BY id LIMIT $2", after, limit)  # noqa: S608
    if not agencies:
        return []
    marks = ", ".join(f"${n}" for n in range(3, 3 + len(agencies)))
    return await sql.fetch(
        f"{_ALERT_COLUMNS} WHERE id > $1 AND agency IN ({marks}) ORDER BY id LIMIT $2",  # noqa: S608
        after,
        limit,
        *agencies,
    )
