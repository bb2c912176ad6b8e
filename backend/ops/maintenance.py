"""Housekeeping: forget what is no longer needed (privacy by default) and keep tables small."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import AuthSession, OtpCode, RefreshToken
from backend.core.clock import utcnow
from backend.ops import ratelimit
from backend.ops.tables import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)


async def purge_expired() -> dict[str, int]:
    now = utcnow()
    expired_sessions = AuthSession.select(AuthSession.id).where(AuthSession.expires_at < now)
    counts = {
        "rate_hits": await ratelimit.purge_older_than(24 * 3600),
        "idempotency_records": len(
            await IdempotencyRecord.delete()
            .where(IdempotencyRecord.created_at < now - IDEMPOTENCY_TTL)
            .returning(IdempotencyRecord.id)
        ),
        "otp_codes": len(await OtpCode.delete().where(OtpCode.expires_at < now).returning(OtpCode.id)),
        "refresh_tokens": len(
            await RefreshToken.delete()
            .where((RefreshToken.expires_at < now) | RefreshToken.session.is_in(expired_sessions))
            .returning(RefreshToken.id)
        ),
    }
    return counts
