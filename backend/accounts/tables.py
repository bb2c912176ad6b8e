"""Agencies, users, sessions and login protection."""

from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.ids import uuid7


class Agency(Table, tablename="agencies"):
    id = UUID(primary_key=True, default=uuid7)
    kind = Varchar(length=32)  # police | procuratorate | court | justice_bureau
    name = Varchar(length=200)
    # Jurisdiction as an administrative division code (e.g. 330100 Hangzhou, 330106 Xihu district).
    region_code = Varchar(length=12, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="users"):
    id = UUID(primary_key=True, default=uuid7)
    role = Varchar(length=32, index=True)
    agency = ForeignKey(Agency, null=True, index=True, default=None)
    region_code = Varchar(length=12, null=True, index=True, default=None)
    display_name = Varchar(length=200)
    phone = Varchar(length=20, null=True, unique=True, default=None)
    username = Varchar(length=64, null=True, unique=True, default=None)
    password_hash = Varchar(length=200, null=True, default=None)
    totp_secret = Bytea(null=True, default=None)  # sealed with the settings key, never stored in clear
    totp_last_step = BigInt(null=True, default=None)  # step of the last accepted code: each code works once
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(null=True, default=None)
    # zh | en, set by the person in the app; NULL: their request's Accept-Language, else zh (backend.i18n)
    language = Varchar(length=8, null=True, default=None)


class AuthSession(Table, tablename="auth_sessions"):
    id = UUID(primary_key=True, default=uuid7)
    user = ForeignKey(User, index=True)
    channel = Varchar(length=16)  # mobile | console
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()  # absolute limit
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=64, null=True, default=None)
    client_address = Varchar(length=64, null=True, default=None)
    user_agent = Varchar(length=300, null=True, default=None)


class RefreshToken(Table, tablename="refresh_tokens"):
    id = UUID(primary_key=True, default=uuid7)
    session = ForeignKey(AuthSession, index=True)
    token_hash = Varchar(length=64, unique=True)
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class LoginGuard(Table, tablename="login_guards"):
    """Attempts per login subject (a user at an address, a user, a phone number, a face), counted before
    they are judged and decided in one upsert (backend.accounts.lockout)."""

    id = UUID(primary_key=True, default=uuid7)
    subject = Varchar(length=100, unique=True)
    failures = Integer(default=0)  # attempts since the last success or lock; limit + 1: refused while locked
    lockouts = Integer(default=0)  # how many times locked since the last success: the delay doubles
    locked_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class OtpCode(Table, tablename="otp_codes"):
    """One-time codes issued by the built-in sender (used when Twilio Verify is not configured)."""

    id = UUID(primary_key=True, default=uuid7)
    phone = Varchar(length=20, index=True)
    code_hash = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    consumed_at = Timestamptz(null=True, default=None)


class AccessGrant(Table, tablename="access_grants"):
    """A record transferred to another agency: that agency may see it from then on."""

    id = UUID(primary_key=True, default=uuid7)
    object_type = Varchar(length=40)
    object_id = Varchar(length=40, index=True)
    agency = ForeignKey(Agency, index=True)
    granted_at = Timestamptz(default=TimestamptzNow())
