"""Writing and verifying the audit chain.

Each row's body_hash is the SHA-256 of its own fields in a fixed order, and its row_hash links it to the
row before: SHA-256 of "prev_hash:seq:body_hash". Editing, deleting or reordering any row breaks every later
link. Appends serialise on the single AuditHead row:
- SQLite write transactions are exclusive anyway, so the row is linked here, in the writing transaction;
- on PostgreSQL the row goes in with a pending (negative) seq and the audit_seal trigger links it as the
  transaction commits. The head's row lock is then held for the commit alone: taken here, it was held
  across every round trip the writer still had to make, and all writers of the platform queued behind it.
  The link is plain enough for SQL to compute; the body, which needs JSON, is hashed here.
The statements, and which database links where, are in backend.audit.store.
Rows written before body_hash existed (NULL) keep their first hash: SHA-256 over the JSON of
[prev_hash, seq, at, fields...].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from backend.audit import store
from backend.audit.reading import readable_agency_ids
from backend.audit.store import GENESIS
from backend.audit.tables import AuditEntry, AuditHead
from backend.core.clock import as_utc, utcnow
from backend.core.context import Actor, request_id_var
from backend.core.crypto import sha256_hex
from backend.core.errors import InvalidInput
from backend.core.pagination import Page, check_limit, decode_cursor, page_of
from backend.db.engine import write_tx


def digest_of(change: object) -> str:
    return sha256_hex(json.dumps(change, sort_keys=True, default=str, separators=(",", ":")))


def body_hash(at: datetime, fields: dict) -> str:
    material = [as_utc(at).isoformat(timespec="microseconds")] + [fields[name] for name in _HASHED_FIELDS]
    return sha256_hex(json.dumps(material, separators=(",", ":")))


def link_hash(prev_hash: str, seq: int, body: str) -> str:
    """The audit_seal trigger computes the same: prev || ':' || seq || ':' || body_hash."""
    return sha256_hex(f"{prev_hash}:{seq}:{body}")


def _first_row_hash(prev_hash: str, seq: int, at: datetime, fields: dict) -> str:
    """How rows written before body_hash existed were hashed."""
    material = [prev_hash, seq, as_utc(at).isoformat(timespec="microseconds")] + [
        fields[name] for name in _HASHED_FIELDS
    ]
    return sha256_hex(json.dumps(material, separators=(",", ":")))


_HASHED_FIELDS = (
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "agency_id",
    "request_id",
    "change_digest",
)


async def record(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    change: object = None,
    agency_id: object = None,
) -> None:
    """Append one audit row inside the caller's transaction (or a new one)."""
    at = utcnow()
    fields = {
        "actor_id": actor.id,
        "actor_role": actor.role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "agency_id": str(agency_id) if agency_id else None,
        "request_id": request_id_var.get(),
        "change_digest": digest_of(change),
    }
    body = body_hash(at, fields)
    async with write_tx():
        # Every state change passes here: hand-written statements (backend.audit.store).
        await store.append(at, list(fields.values()), body, link_hash)


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify_chain(batch: int = 5000) -> VerifyResult:
    """Walk the chain in order up to its head and name the first row that does not fit.

    The head is read first and the walk stops at it, so rows appended while the walk runs (a live system)
    are neither walked nor mistaken for a broken chain; a row beyond the head, which no append leaves
    behind, is reported after the walk.
    """
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    last_seq, last_hash = (head["last_seq"], head["last_hash"]) if head else (0, GENESIS)
    prev_hash, expected_seq, count = GENESIS, 1, 0
    while expected_seq <= last_seq:
        rows = (
            await AuditEntry.select()
            .where((AuditEntry.seq >= expected_seq) & (AuditEntry.seq <= last_seq))
            .order_by(AuditEntry.seq)
            .limit(batch)
        )
        for row in rows:
            seq = row["seq"]
            if seq != expected_seq:
                return VerifyResult(False, count, expected_seq, f"row {expected_seq} is missing")
            if row["prev_hash"] != prev_hash:
                return VerifyResult(False, count, seq, "prev_hash does not match the previous row")
            if not _hash_fits(row, prev_hash):
                return VerifyResult(False, count, seq, "row contents do not match its hash")
            prev_hash, expected_seq, count = row["row_hash"], seq + 1, count + 1
        if len(rows) < batch:
            break
    if expected_seq <= last_seq or prev_hash != last_hash:
        return VerifyResult(False, count, expected_seq, "rows after this point were removed")
    if (beyond := await store.first_seq_beyond_head()) is not None:
        return VerifyResult(False, count, beyond, "a row lies beyond the chain's head")
    return VerifyResult(True, count)


def _hash_fits(row: dict, prev_hash: str) -> bool:
    fields = {name: row[name] for name in _HASHED_FIELDS}
    if row["body_hash"] is None:
        return _first_row_hash(prev_hash, row["seq"], row["at"], fields) == row["row_hash"]
    return (
        body_hash(row["at"], fields) == row["body_hash"]
        and link_hash(prev_hash, row["seq"], row["body_hash"]) == row["row_hash"]
    )


async def read_entries(
    principal, object_type: str | None, object_id: str | None, cursor: str | None, limit: int
):
    """Newest first, keyset-paginated on seq, limited to the agencies the caller may read."""
    agencies = await readable_agency_ids(principal)
    query = AuditEntry.select().order_by(AuditEntry.seq, ascending=False).limit(check_limit(limit) + 1)
    if agencies is not None:
        if not agencies:
            return Page([], None)
        query = query.where(AuditEntry.agency_id.is_in(sorted(agencies)))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    after = decode_cursor(cursor)
    if after is not None:
        if not isinstance(after, int):
            raise InvalidInput("cursor", "not a cursor of this list")
        query = query.where(AuditEntry.seq < after)
    return page_of(await query, limit, lambda row: int(row["seq"]))
