"""Every hand-written statement of the platform's bookkeeping tables: the scheduler lease, rate-limit
hits, Idempotency-Key records (the web floor's middleware, backend.web.idempotency) and the recorded SMS.

Each decision here is one statement (an upsert or conditional UPDATE ... RETURNING) or runs under a lock,
so it holds when processes decide at once; rate limits and idempotency claims sit on request paths, so
they are hand-written (see backend.db.sql).
"""

from __future__ import annotations

from datetime import datetime

from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import is_sqlite

# The scheduler lease (backend.ops.lease) ------------------------------------------------------------

_TAKE = (
    "INSERT INTO scheduler_leases (name, holder, expires_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE scheduler_leases.holder = excluded.holder OR scheduler_leases.expires_at <= $4 "
    "RETURNING holder"
)
_RELEASE_LEASE = "UPDATE scheduler_leases SET expires_at = $3 WHERE name = $1 AND holder = $2"


async def take_lease(name: str, holder: str, expires_at: datetime, now: datetime) -> bool:
    """Take or renew the lease in one upsert: True when `holder` holds it until `expires_at`."""
    return await sql.fetch_one(_TAKE, name, holder, expires_at, now) is not None


async def end_lease(name: str, holder: str, now: datetime) -> None:
    await sql.execute(_RELEASE_LEASE, name, holder, now)


# Rate limits (backend.ops.ratelimit) ----------------------------------------------------------------

_RECENT = "SELECT at FROM rate_hits WHERE key = $1 AND bucket = $2 AND at > $3 ORDER BY at DESC LIMIT $4"
_ADD = "INSERT INTO rate_hits (id, bucket, key, at) VALUES ($1, $2, $3, $4)"


async def lock_rate_key(bucket: str, key: str) -> None:
    """Queue deciders of one (bucket, key) until the transaction ends. On PostgreSQL a transaction-scoped
    advisory lock (a hash collision between pairs only makes them queue together); on SQLite nothing:
    its IMMEDIATE write transaction is already one at a time."""
    if not is_sqlite():
        await sql.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{bucket}\n{key}")


async def recent_hits(bucket: str, key: str, since: datetime, limit: int) -> list[dict]:
    """The newest `limit` hits after `since`, newest first."""
    return await sql.fetch(_RECENT, key, bucket, since, limit)


async def add_hit(bucket: str, key: str, at: datetime) -> None:
    await sql.execute(_ADD, uuid7(), bucket, key, at)


# Idempotency-Key records (backend.web.idempotency) --------------------------------------------------

_CLAIM = (
    "INSERT INTO idempotency_records (id, scoped_key, request_hash, claim_token, claimed_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (scoped_key) DO NOTHING RETURNING id"
)
_EXISTING = (
    "SELECT id, request_hash, status_code, content_type, response_body, claimed_at, applied_at "
    "FROM idempotency_records WHERE scoped_key = $1"
)
_TAKE_OVER = (
    "UPDATE idempotency_records SET claim_token = $1, claimed_at = $2 WHERE id = $3 AND request_hash = $4 "
    "AND status_code IS NULL AND applied_at IS NULL AND claimed_at < $5 RETURNING id"
)
_MARK_APPLIED = (
    "UPDATE idempotency_records SET applied_at = $1 WHERE id = $2 AND claim_token = $3 RETURNING id"
)
_STORE = (
    "UPDATE idempotency_records SET status_code = $1, content_type = $2, response_body = $3 "
    "WHERE id = $4 AND claim_token = $5"
)
_RELEASE_KEY = (
    "DELETE FROM idempotency_records WHERE id = $1 AND claim_token = $2 AND applied_at IS NULL RETURNING id"
)


async def claim_key(scoped_key: str, request_hash: str, token: str, now: datetime) -> dict | None:
    """A new record for the key (`{"id": ...}`), or None when the key already has one."""
    return await sql.fetch_one(_CLAIM, uuid7(), scoped_key, request_hash, token, now)


async def key_record(scoped_key: str) -> dict | None:
    return await sql.fetch_one(_EXISTING, scoped_key)


async def take_over_key(
    record_id: object, request_hash: str, token: str, now: datetime, claimed_before: datetime
) -> bool:
    """Take an unanswered, unapplied claim whose lease ran out (claimed before `claimed_before`)."""
    return await sql.fetch_one(_TAKE_OVER, token, now, record_id, request_hash, claimed_before) is not None


async def mark_key_applied(record_id: object, token: str, now: datetime) -> bool:
    """False when the claim is no longer this token's (a retry took it over)."""
    return await sql.fetch_one(_MARK_APPLIED, now, record_id, token) is not None


async def store_key_response(
    record_id: object, token: str, status: int, content_type: str, body: bytes
) -> None:
    await sql.execute(_STORE, status, content_type, body, record_id, token)


async def release_key(record_id: object, token: str) -> bool:
    """Delete the claim unless it applied: False when nothing was deleted."""
    return await sql.fetch_one(_RELEASE_KEY, record_id, token) is not None


# Recorded SMS (backend.ops.sms's console sender; `remotecase sms last`) -----------------------------


async def last_sms_to(phone: str) -> dict | None:
    """The newest message recorded for the number: body, created_at."""
    return await sql.fetch_one(
        'SELECT body, created_at FROM sms_messages WHERE "to" = $1 ORDER BY id DESC LIMIT 1', phone
    )
