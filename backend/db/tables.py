"""Registry of all piccolo tables (one import per domain)."""

from backend.accounts.tables import (
    AccessGrant,
    Agency,
    AuthSession,
    LoginGuard,
    OtpCode,
    RefreshToken,
    User,
)
from backend.audit.tables import AuditEntry, AuditHead
from backend.ops.tables import IdempotencyRecord, RateHit, SmsMessage

ALL_TABLES = [
    Agency,
    User,
    AuthSession,
    RefreshToken,
    LoginGuard,
    OtpCode,
    AccessGrant,
    AuditEntry,
    AuditHead,
    IdempotencyRecord,
    RateHit,
    SmsMessage,
]
