"""Single-use tickets that open a live-alerts websocket (browsers cannot set headers on one)."""

from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.table import Table

from backend.core.ids import uuid7


class LiveTicket(Table, tablename="live_tickets"):
    id = UUID(primary_key=True, default=uuid7)
    ticket_hash = Varchar(length=64, unique=True)  # SHA-256 of the ticket; the ticket itself is never kept
    session = UUID(index=True)  # the auth session the socket stands for, re-checked while it is open
    expires_at = Timestamptz(index=True)
