"""Consecutive-failure lockout: after N failures the subject is locked for 30 s, doubling each time."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import LoginGuard
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Locked
from backend.db.engine import write_tx


async def locked_for(subject: str) -> int | None:
    """Seconds until the subject's lock ends, or None when it is not locked."""
    guard = await LoginGuard.objects().where(LoginGuard.subject == subject).first()
    if guard and guard.locked_until and as_utc(guard.locked_until) > utcnow():
        return int((as_utc(guard.locked_until) - utcnow()).total_seconds()) + 1
    return None


async def ensure_not_locked(subject: str) -> None:
    if (seconds := await locked_for(subject)) is not None:
        raise Locked(seconds)


async def register_failure(subject: str, max_failures: int, base_seconds: int) -> int | None:
    """Count a failure in its own transaction (it must survive the request's error). Returns lock seconds."""
    async with write_tx():
        guard = await LoginGuard.objects().where(LoginGuard.subject == subject).first()
        if guard is None:
            guard = LoginGuard(subject=subject, failures=0, lockouts=0)
        guard.failures += 1
        guard.updated_at = utcnow()
        locked_for = None
        if guard.failures >= max_failures:
            locked_for = base_seconds * (2**guard.lockouts)
            guard.locked_until = utcnow() + timedelta(seconds=locked_for)
            guard.lockouts += 1
            guard.failures = 0
        await guard.save()
        return locked_for


async def register_success(subject: str) -> None:
    await LoginGuard.delete().where(LoginGuard.subject == subject)
