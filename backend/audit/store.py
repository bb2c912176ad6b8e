"""Every hand-written statement of the audit chain, and how each database links a new row.

Every state change appends a row here, so the statements are hand-written (see backend.db.sql). How a row
is linked depends on the database (backend.audit.services explains why):
- SQLite write transactions are exclusive anyway, so the row is linked here, in the writing transaction;
- on PostgreSQL the row goes in with a pending (negative) seq and the audit_seal trigger links it as the
  transaction commits, so the head's row lock is held for the commit alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from backend.audit.tables import AuditHead
from backend.db import sql
from backend.db.engine import is_sqlite

GENESIS = "0" * 64

_COLUMNS = (
    "seq, at, actor_id, actor_role, action, object_type, object_id, agency_id, request_id, change_digest, "
    "body_hash, prev_hash, row_hash"
)
_INSERT_LINKED = (
    f"INSERT INTO audit_entries ({_COLUMNS}) "  # noqa: S608 - constants
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
)
_INSERT_PENDING = (
    f"INSERT INTO audit_entries ({_COLUMNS}) "  # noqa: S608 - constants
    "VALUES (-nextval('audit_pending_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', '')"
)


async def append(at: datetime, values: list, body: str, link_hash: Callable[[str, int, str], str]) -> None:
    """Append one row inside the caller's write transaction. `values` are the hashed fields in column
    order (actor_id ... change_digest); `link_hash(prev_hash, seq, body)` links it where that is done here."""
    if not is_sqlite():
        await sql.execute(_INSERT_PENDING, at, *values, body)  # linked at COMMIT
        return
    head = await sql.fetch_one(
        "UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash"
    )
    if head is None:
        await AuditHead.insert(AuditHead(id=1, last_seq=1, last_hash=GENESIS))
        head = {"last_seq": 1, "last_hash": GENESIS}
    seq, prev_hash = int(head["last_seq"]), head["last_hash"]
    row_hash = link_hash(prev_hash, seq, body)
    await sql.execute(_INSERT_LINKED, seq, at, *values, body, prev_hash, row_hash)
    await sql.execute("UPDATE audit_head SET last_hash = $1 WHERE id = 1", row_hash)


async def first_seq_beyond_head() -> int | None:
    """The lowest seq past the head, if any row lies there. One statement, so the head it compares with
    is the one its rows were committed with."""
    beyond = await sql.fetch_one(
        "SELECT min(seq) AS seq FROM audit_entries WHERE seq > (SELECT last_seq FROM audit_head WHERE id = 1)"
    )
    return beyond["seq"] if beyond else None
