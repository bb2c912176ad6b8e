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
from backend.notify.tables import Notification
from backend.ops.tables import IdempotencyRecord, RateHit, SmsMessage
from backend.supervision.tables import (
    AgencyPolicy,
    Alert,
    Checkin,
    CheckinWindow,
    Contest,
    Device,
    LedgerEntry,
    Measure,
    NoticeAck,
    Obligation,
    ScoreRule,
    Task,
    Transfer,
    TravelRequest,
)

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
    Notification,
    Measure,
    Obligation,
    NoticeAck,
    Device,
    CheckinWindow,
    Checkin,
    ScoreRule,
    AgencyPolicy,
    LedgerEntry,
    Task,
    Alert,
    Contest,
    TravelRequest,
    Transfer,
]
