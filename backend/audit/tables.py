"""Append-only audit chain: each row holds the SHA-256 of the previous row."""

from piccolo.columns import BigInt, Integer, Timestamptz, Varchar
from piccolo.table import Table


class AuditEntry(Table, tablename="audit_entries"):
    # Assigned from AuditHead inside the writing transaction, so the sequence has no gaps: a gap means
    # a deleted row. On PostgreSQL a row is inserted with a pending (negative) seq and given its place as
    # the transaction commits (the audit_seal trigger).
    seq = BigInt(primary_key=True)
    at = Timestamptz()
    actor_id = Varchar(length=40)
    actor_role = Varchar(length=32)
    action = Varchar(length=64, index=True)
    object_type = Varchar(length=40)
    object_id = Varchar(length=64, index=True)
    agency_id = Varchar(length=40, null=True, index=True, default=None)
    request_id = Varchar(length=64, null=True, default=None)
    change_digest = Varchar(length=64)
    body_hash = Varchar(length=64, null=True, default=None)  # NULL: a row hashed the first way (see services)
    prev_hash = Varchar(length=64)
    row_hash = Varchar(length=64)


class AuditHead(Table, tablename="audit_head"):
    """A single row (id = 1): the last sequence number and hash. Updating it serialises appends."""

    id = Integer(primary_key=True)
    last_seq = BigInt(default=0)
    last_hash = Varchar(length=64)
