"""Settings: env-driven frozen dataclasses, one per area, read once per process."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


@dataclass(frozen=True)
class DatabaseSettings:
    # sqlite:///path/to.db (default) or postgresql://user@host:port/db
    url: str

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))


@dataclass(frozen=True)
class AuthSettings:
    access_token_seconds: int = 600
    refresh_token_seconds: int = 30 * 24 * 3600
    # Officers sit at a console: short idle and absolute limits. The phone app keeps longer sessions.
    officer_idle_seconds: int = 30 * 60
    officer_absolute_seconds: int = 12 * 3600
    mobile_idle_seconds: int = 14 * 24 * 3600
    mobile_absolute_seconds: int = 90 * 24 * 3600
    max_failures: int = 5
    lockout_base_seconds: int = 30
    otp_ttl_seconds: int = 300
    otp_per_phone_per_hour: int = 5
    otp_per_phone_min_interval_seconds: int = 30
    otp_per_address_per_hour: int = 20
    # An open live-alerts socket re-checks its session this often (and before every message it sends).
    live_alerts_recheck_seconds: float = 20.0


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str | None = None
    auth_token: str | None = None
    verify_service_sid: str | None = None
    messaging_from: str | None = None
    # Lets the client talk to a regional proxy or a local server speaking Twilio's HTTP API.
    base_url: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.verify_service_sid)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    secret_key: bytes
    var_dir: Path
    auth: AuthSettings = field(default_factory=AuthSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    face_model_dir: Path | None = None
    storage_dir: Path = Path("var/files")
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes. Each keeps its own caches and face models; all share the database (SQLite writers
    # take turns through a file lock, see backend/db/sqlite_pool.py).
    workers: int = 1
    environment: str = "development"
    log_level: str = "INFO"
    # Number of reverse proxies in front of the service whose X-Forwarded-For entries can be trusted.
    trusted_proxies: int = 0


def _secret_key(var_dir: Path) -> bytes:
    """SECRET_KEY from the environment; in development a per-install key kept under var/ (never committed)."""
    raw = _env("SECRET_KEY")
    if raw:
        return raw.encode()
    key_file = var_dir / "secret.key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


def load_settings() -> Settings:
    var_dir = Path(_env("REMOTECASE_VAR_DIR", "var")).resolve()
    url = _env("DATABASE_URL", f"sqlite:///{var_dir / 'remotecase.db'}")
    model_dir = _env("FACE_MODEL_DIR")
    return Settings(
        database=DatabaseSettings(url=url),
        secret_key=_secret_key(var_dir),
        var_dir=var_dir,
        auth=AuthSettings(
            access_token_seconds=_int("ACCESS_TOKEN_SECONDS", AuthSettings.access_token_seconds),
            officer_idle_seconds=_int("OFFICER_IDLE_SECONDS", AuthSettings.officer_idle_seconds),
            officer_absolute_seconds=_int("OFFICER_ABSOLUTE_SECONDS", AuthSettings.officer_absolute_seconds),
            mobile_idle_seconds=_int("MOBILE_IDLE_SECONDS", AuthSettings.mobile_idle_seconds),
            mobile_absolute_seconds=_int("MOBILE_ABSOLUTE_SECONDS", AuthSettings.mobile_absolute_seconds),
            lockout_base_seconds=_int("LOCKOUT_BASE_SECONDS", AuthSettings.lockout_base_seconds),
            otp_per_address_per_hour=_int("OTP_PER_ADDRESS_PER_HOUR", AuthSettings.otp_per_address_per_hour),
            live_alerts_recheck_seconds=float(
                _env("LIVE_ALERTS_RECHECK_SECONDS", str(AuthSettings.live_alerts_recheck_seconds))
            ),
        ),
        twilio=TwilioSettings(
            account_sid=_env("TWILIO_ACCOUNT_SID"),
            auth_token=_env("TWILIO_AUTH_TOKEN"),
            verify_service_sid=_env("TWILIO_VERIFY_SERVICE_SID"),
            messaging_from=_env("TWILIO_FROM"),
            base_url=_env("TWILIO_BASE_URL"),
        ),
        face_model_dir=Path(model_dir).resolve() if model_dir else None,
        storage_dir=Path(_env("STORAGE_DIR", str(var_dir / "files"))).resolve(),
        host=_env("HOST", "127.0.0.1"),
        port=_int("PORT", 8000),
        workers=max(1, _int("WEB_WORKERS", 1)),
        environment=_env("REMOTECASE_ENV", "development"),
        log_level=_env("LOG_LEVEL", "INFO"),
        trusted_proxies=_int("TRUSTED_PROXIES", 0),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
