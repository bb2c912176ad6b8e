"""Every hand-written statement of accounts: login guards, one-time codes, authenticator steps, sessions
and refresh tokens, and the stored language of a user.

These run on every login and every request (the session check), some under the write lock, so they are
hand-written (see backend.db.sql); each decision that must hold under concurrency is one statement.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import is_sqlite

MAX_DOUBLINGS = 20  # 30 s * 2**20 is a year: beyond that the lock stops growing (and the integer with it)

# Login guards (backend.accounts.lockout) -----------------------------------------------------------


def _lock_end(sqlite: bool) -> str:
    """SQL for `now ($4) + base ($5) * 2**lockouts` seconds, in the column's stored form on each database."""
    doublings = f"CASE WHEN g.lockouts > {MAX_DOUBLINGS} THEN {MAX_DOUBLINGS} ELSE g.lockouts END"
    seconds = f"($5 * (1 << ({doublings})))"
    if sqlite:
        # piccolo stores timestamps as str(datetime) in UTC; SQLite's own functions keep milliseconds.
        return f"strftime('%Y-%m-%d %H:%M:%f', $4, '+' || {seconds} || ' seconds') || '000+00:00'"
    return f"($4::timestamptz + make_interval(secs => {seconds}))"


@lru_cache(maxsize=2)
def _count_sql(sqlite: bool) -> str:
    locked = "g.locked_until > $4"
    # The count this attempt makes when the subject is not locked: a lock that has run out starts afresh.
    following = "(CASE WHEN g.locked_until IS NOT NULL THEN 1 ELSE g.failures + 1 END)"
    return (
        "INSERT INTO login_guards AS g (id, subject, failures, lockouts, locked_until, updated_at) "  # noqa: S608 - constants
        "VALUES ($1, $2, 1, $6, $7, $4) "
        "ON CONFLICT (subject) DO UPDATE SET "
        f"failures = CASE WHEN {locked} THEN $3 + 1 ELSE {following} END, "
        f"lockouts = CASE WHEN {locked} THEN g.lockouts "
        f"WHEN {following} >= $3 THEN g.lockouts + 1 ELSE g.lockouts END, "
        f"locked_until = CASE WHEN {locked} THEN g.locked_until "
        f"WHEN {following} >= $3 THEN {_lock_end(sqlite)} ELSE NULL END, "
        "updated_at = $4 "
        "RETURNING failures, lockouts, locked_until"
    )


async def count_attempt(
    subject: str,
    max_failures: int,
    now: datetime,
    base_seconds: int,
    first_lockouts: int,
    first_locked_until: datetime | None,
) -> dict:
    """Count one attempt in one upsert; the guard row as it is after the count."""
    return await sql.fetch_one(
        _count_sql(is_sqlite()),
        uuid7(),
        subject,
        max_failures,
        now,
        base_seconds,
        first_lockouts,
        first_locked_until,
    )


async def forget_failures(subject: str, failures: int, lockouts: int) -> None:
    """Delete the guard row, unless another attempt was counted since (the counts moved on)."""
    await sql.execute(
        "DELETE FROM login_guards WHERE subject = $1 AND failures = $2 AND lockouts = $3",
        subject,
        failures,
        lockouts,
    )


async def give_back_attempt(subject: str, lockouts: int, max_failures: int, it_locked: bool) -> None:
    """Uncount one attempt; with `it_locked`, the lock it set (still the `lockouts`-th) goes too."""
    await sql.execute(
        "UPDATE login_guards SET "
        "failures = CASE WHEN locked_until IS NULL THEN failures - 1 ELSE $3 - 1 END, "
        "lockouts = CASE WHEN locked_until IS NULL THEN lockouts ELSE lockouts - 1 END, "
        "locked_until = NULL "
        "WHERE subject = $1 AND failures > 0 AND (locked_until IS NULL OR (lockouts = $2 AND $4))",
        subject,
        lockouts,
        max_failures,
        it_locked,
    )


# Authenticator codes (backend.accounts.auth_service) ------------------------------------------------


async def claim_totp_step(user_id: object, step: int) -> bool:
    """Record `step` as used, if no later or equal step was: True when this caller claimed it."""
    claimed = await sql.fetch_one(
        "UPDATE users SET totp_last_step = $1 WHERE id = $2 "
        "AND (totp_last_step IS NULL OR totp_last_step < $1) RETURNING id",
        step,
        user_id,
    )
    return claimed is not None


# One-time login codes (backend.accounts.otp) --------------------------------------------------------

_CONSUME = (
    "UPDATE otp_codes SET consumed_at = $1 WHERE id = ("
    "SELECT id FROM otp_codes WHERE phone = $2 AND consumed_at IS NULL AND expires_at > $1 "
    "ORDER BY created_at DESC LIMIT 1"
    ") AND code_hash = $3 AND consumed_at IS NULL RETURNING id"
)


async def replace_code(phone: str, code_hash: str, now: datetime, expires_at: datetime) -> None:
    """End any code still pending for the number and store the new one (inside the caller's transaction)."""
    await sql.execute(
        "UPDATE otp_codes SET consumed_at = $1 WHERE phone = $2 AND consumed_at IS NULL", now, phone
    )
    await sql.execute(
        "INSERT INTO otp_codes (id, phone, code_hash, created_at, expires_at, consumed_at) "
        "VALUES ($1, $2, $3, $4, $5, NULL)",
        uuid7(),
        phone,
        code_hash,
        now,
        expires_at,
    )


async def consume_code(phone: str, code_hash: str, now: datetime) -> bool:
    """Consume the number's latest pending code if its hash is `code_hash`."""
    return await sql.fetch_one(_CONSUME, now, phone, code_hash) is not None


# Languages (backend.accounts.otp, backend.i18n.people) ----------------------------------------------

# Read on notification and request paths, some under the write lock.
_STORED = "SELECT language FROM users WHERE id = $1"


async def language_of_user(user_id: object) -> str | None:
    row = await sql.fetch_one(_STORED, user_id)
    return row["language"] if row else None


async def language_of_phone(phone: str) -> str | None:
    row = await sql.fetch_one("SELECT language FROM users WHERE phone = $1", phone)
    return row["language"] if row else None


# Sessions and refresh tokens (backend.accounts.sessions) --------------------------------------------

# Claims an unused, unexpired token whose session was opened on the caller's channel ($3; NULL: any).
_CLAIM = (
    "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 "
    "AND session IN (SELECT id FROM auth_sessions WHERE channel = COALESCE($3, channel)) RETURNING session"
)
_LOOKUP = (
    "SELECT t.session, t.used_at, s.channel FROM refresh_tokens t "
    "JOIN auth_sessions s ON s.id = t.session WHERE t.token_hash = $1"
)


async def opened_from(user_id: object, client_address: str, since: datetime) -> bool:
    row = await sql.fetch_one(
        'SELECT 1 AS known FROM auth_sessions WHERE "user" = $1 AND client_address = $2 '
        "AND created_at > $3 LIMIT 1",
        user_id,
        client_address,
        since,
    )
    return row is not None


async def session_with_user(session_id: object) -> dict | None:
    """The session and what the request needs of its user (`user.role`, `user.agency`, ...)."""
    return await sql.fetch_one(
        'SELECT s.id, s."user", s.channel, s.last_seen_at, s.expires_at, s.revoked_at, '
        'u.role AS "user.role", u.agency AS "user.agency", u.region_code AS "user.region_code", '
        'u.active AS "user.active" FROM auth_sessions s JOIN users u ON u.id = s."user" WHERE s.id = $1',
        session_id,
    )


async def touch_session(session_id: object, now: datetime) -> None:
    await sql.execute("UPDATE auth_sessions SET last_seen_at = $1 WHERE id = $2", now, session_id)


async def claim_refresh_token(token_hash: str, now: datetime, channel: str | None) -> dict | None:
    """`{"session": ...}` when this caller claimed the token, else None."""
    return await sql.fetch_one(_CLAIM, now, token_hash, channel)


async def refresh_token(token_hash: str) -> dict | None:
    """The token's session, when it was used, and its session's channel."""
    return await sql.fetch_one(_LOOKUP, token_hash)


async def end_session(session_id: object, now: datetime, reason: str) -> dict | None:
    """Revoke the session if it is not yet revoked: `{"user": ...}` when this caller ended it."""
    return await sql.fetch_one(
        "UPDATE auth_sessions SET revoked_at = $1, revoked_reason = $2 "
        'WHERE id = $3 AND revoked_at IS NULL RETURNING "user"',
        now,
        reason,
        session_id,
    )
