"""Settings: env-driven frozen dataclasses, one per area, read once per process.

Every value is checked when it is read: a bad one is reported by its variable name, with what it expects,
and all of them together in one SettingsError, so a deployment is fixed in one pass instead of one crash
per variable (README "Settings (environment)" lists them all).
"""

from __future__ import annotations

import math
import os
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from backend.core.keyring import KeyRing, LocalKeyStore, RingKey, legacy_kid, parse_key_list

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENVIRONMENTS = ("development", "production")
# The key is used as given (its UTF-8 bytes are the HMAC master secret, see backend/core/crypto.derive_key),
# never decoded; secrets.token_urlsafe(32) gives 43 bytes.
MIN_SECRET_KEY_BYTES = 32
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class SettingsError(ValueError):
    """Every invalid setting, one line each, each line starting with the variable's name."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{name} {reason}" for name, reason in problems))

    @property
    def variables(self) -> list[str]:
        return [name for name, _ in self.problems]


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")


class _Reader:
    """Reads the environment, collecting problems instead of raising at the first one."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, name: str, reason: str) -> None:
        self.problems.append((name, reason))

    def integer(
        self, name: str, default: int, *, minimum: int, maximum: int | None = None, unit: str = ""
    ) -> int:
        raw = _env(name)
        if raw is None:
            return default
        what = f"a whole number{' of ' + unit if unit else ''}"
        if not _WHOLE_NUMBER.fullmatch(raw.strip()):
            self.fail(name, f"must be {what} (got {_shown(raw)})")
            return default
        value = int(raw.strip())
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            self.fail(name, f"must be {what} {bounds} (got {_shown(raw)})")
            return default
        return value

    def seconds(self, name: str, default: int) -> int:
        return self.integer(name, default, minimum=1, unit="seconds")

    def positive_float(self, name: str, default: float, unit: str) -> float:
        raw = _env(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            self.fail(name, f"must be a positive number of {unit} (got {_shown(raw)})")
            return default
        return value

    def choice(self, name: str, default: str, allowed: tuple[str, ...], *, upper: bool = False) -> str:
        raw = _env(name)
        if raw is None:
            return default
        value = raw.strip().upper() if upper else raw.strip()
        if value not in allowed:
            self.fail(name, f"must be one of {', '.join(allowed)} (got {_shown(raw)})")
            return default
        return value


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
    # The legacy master key (SECRET_KEY, or var/secret.key in development): it owns everything made before
    # key ids, and OTP hashes derive from it. New tokens, sealed secrets and receipts use `keys`.
    secret_key: bytes
    var_dir: Path
    keys: KeyRing | None = None
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
    # How often the scheduler runs its frequent sweeps (missed windows, reminders, signal loss).
    scheduler_sweep_seconds: int = 300
    # One scheduler runs the jobs (backend.ops.lease): it holds its lease this long after each renewal,
    # renewing every SCHEDULER_LEASE_RENEW_SECONDS; a standby tries as often and takes over once it expires.
    scheduler_lease_seconds: int = 30
    scheduler_lease_renew_seconds: int = 10
    # Live alerts between processes and hosts (Litestar channels over Redis pub/sub); unset: in-process.
    redis_url: str | None = None


def _secret_key(read: _Reader, var_dir: Path, *, production: bool, listed: bool) -> bytes | None:
    """SECRET_KEY from the environment; in development without any key set, a per-install key kept under
    var/ (never committed). Production never writes one: every host must share the same keys."""
    raw = _env("SECRET_KEY")
    if raw:
        key = raw.encode()
        if len(key) < MIN_SECRET_KEY_BYTES:  # never echo the key itself
            read.fail(
                "SECRET_KEY",
                f"must carry at least {MIN_SECRET_KEY_BYTES} bytes of key material "
                f"(got {len(key)}); generate one with: python -c "
                "'import secrets; print(secrets.token_urlsafe(32))'",
            )
        return key
    if production:
        return None
    key_file = var_dir / "secret.key"
    if listed and not key_file.exists():  # SECRET_KEYS carries the keys: only an old install's key is read
        return None
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


def _keys(read: _Reader, var_dir: Path, environment: str) -> tuple[bytes, KeyRing]:
    """The key ring: SECRET_KEYS (`kid:base64key`, newest first; CURRENT_KEY_ID may pick another as the
    signing key), with SECRET_KEY as the legacy key; in development, keys added by `remotecase keys rotate`
    to var/keys.json. Production refuses to start without keys in the environment."""
    production = environment == "production"
    listed_raw = _env("SECRET_KEYS")
    legacy_secret = _secret_key(read, var_dir, production=production, listed=bool(listed_raw))
    listed: list[RingKey] = []
    if listed_raw:
        listed, problems = parse_key_list(listed_raw)
        for problem in problems:
            read.fail("SECRET_KEYS", problem)
    elif not production:
        listed = LocalKeyStore(var_dir).load()
    if production and not listed_raw and legacy_secret is None:
        read.fail(
            "SECRET_KEYS",
            "must be set in production (comma-separated kid:base64key, newest first; or at least "
            "SECRET_KEY): every host shares the same keys, none is generated per host "
            "(`remotecase keys rotate` prints a new entry)",
        )
    legacy = RingKey(legacy_kid(legacy_secret), legacy_secret) if legacy_secret else None
    keys = listed or ([legacy] if legacy else [])
    current_kid = _env("CURRENT_KEY_ID")
    if current_kid and keys:
        chosen = next((k for k in keys if k.kid == current_kid), None)
        if chosen is None:
            read.fail("CURRENT_KEY_ID", f"names no key in SECRET_KEYS (got {_shown(current_kid)})")
        else:
            keys = [chosen, *(k for k in keys if k is not chosen)]
    if not keys:  # already reported; a placeholder keeps the rest of the checks going
        return b"", KeyRing((RingKey("none", b""),))
    return legacy_secret or keys[0].secret, KeyRing(tuple(keys), legacy)


def _database_url(read: _Reader, var_dir: Path) -> str:
    url = _env("DATABASE_URL", f"sqlite:///{var_dir / 'remotecase.db'}")
    if url.startswith(("postgres://", "postgresql://")) or (url.startswith("sqlite:///") and len(url) > 10):
        return url
    # Only the scheme is shown: the rest of a URL may carry a password.
    scheme = url.split("://")[0] if "://" in url else url.split(":")[0]
    read.fail("DATABASE_URL", f"must be sqlite:///<path> or postgresql://... (got scheme {_shown(scheme)})")
    return url


def _twilio(read: _Reader) -> TwilioSettings:
    twilio = TwilioSettings(
        account_sid=_env("TWILIO_ACCOUNT_SID"),
        auth_token=_env("TWILIO_AUTH_TOKEN"),
        verify_service_sid=_env("TWILIO_VERIFY_SERVICE_SID"),
        messaging_from=_env("TWILIO_FROM"),
        base_url=_env("TWILIO_BASE_URL"),
    )
    # A partial set would quietly fall back to the console sender: login codes would never reach a phone.
    required = {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_VERIFY_SERVICE_SID": twilio.verify_service_sid,
    }
    if any(required.values()) or twilio.messaging_from or twilio.base_url:
        for name, value in required.items():
            if not value:
                read.fail(
                    name,
                    "must be set: the Twilio settings work only together "
                    "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VERIFY_SERVICE_SID)",
                )
    if twilio.base_url and not twilio.base_url.startswith(("https://", "http://")):
        read.fail("TWILIO_BASE_URL", f"must be an http:// or https:// URL (got {_shown(twilio.base_url)})")
    return twilio


def _redis_url(read: _Reader) -> str | None:
    url = _env("REDIS_URL")
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        scheme = url.split("://")[0] if "://" in url else url.split(":")[0]  # the rest may carry a password
        read.fail("REDIS_URL", f"must be redis://, rediss:// or unix:// (got scheme {_shown(scheme)})")
    return url or None


def load_settings() -> Settings:
    """Read and check every setting; raises SettingsError naming each bad variable. Uncached."""
    read = _Reader()
    var_dir = Path(_env("REMOTECASE_VAR_DIR", "var")).resolve()
    model_dir = _env("FACE_MODEL_DIR")
    defaults = AuthSettings()
    environment = read.choice("REMOTECASE_ENV", "development", ENVIRONMENTS)
    secret_key, keys = _keys(read, var_dir, environment)
    settings = Settings(
        database=DatabaseSettings(url=_database_url(read, var_dir)),
        secret_key=secret_key,
        var_dir=var_dir,
        keys=keys,
        auth=AuthSettings(
            access_token_seconds=read.seconds("ACCESS_TOKEN_SECONDS", defaults.access_token_seconds),
            officer_idle_seconds=read.seconds("OFFICER_IDLE_SECONDS", defaults.officer_idle_seconds),
            officer_absolute_seconds=read.seconds(
                "OFFICER_ABSOLUTE_SECONDS", defaults.officer_absolute_seconds
            ),
            mobile_idle_seconds=read.seconds("MOBILE_IDLE_SECONDS", defaults.mobile_idle_seconds),
            mobile_absolute_seconds=read.seconds("MOBILE_ABSOLUTE_SECONDS", defaults.mobile_absolute_seconds),
            lockout_base_seconds=read.seconds("LOCKOUT_BASE_SECONDS", defaults.lockout_base_seconds),
            otp_per_address_per_hour=read.integer(
                "OTP_PER_ADDRESS_PER_HOUR", defaults.otp_per_address_per_hour, minimum=1
            ),
            live_alerts_recheck_seconds=read.positive_float(
                "LIVE_ALERTS_RECHECK_SECONDS", defaults.live_alerts_recheck_seconds, "seconds"
            ),
        ),
        twilio=_twilio(read),
        face_model_dir=Path(model_dir).resolve() if model_dir else None,
        storage_dir=Path(_env("STORAGE_DIR", str(var_dir / "files"))).resolve(),
        host=_env("HOST", "127.0.0.1").strip(),
        port=read.integer("PORT", 8000, minimum=1, maximum=65535),
        workers=read.integer("WEB_WORKERS", 1, minimum=1),
        environment=environment,
        log_level=read.choice("LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
        trusted_proxies=read.integer("TRUSTED_PROXIES", 0, minimum=0),
        scheduler_sweep_seconds=read.seconds("SCHEDULER_SWEEP_SECONDS", 300),
        scheduler_lease_seconds=read.seconds("SCHEDULER_LEASE_SECONDS", 30),
        scheduler_lease_renew_seconds=read.seconds("SCHEDULER_LEASE_RENEW_SECONDS", 10),
        redis_url=_redis_url(read),
    )
    if settings.scheduler_lease_renew_seconds >= settings.scheduler_lease_seconds:
        read.fail("SCHEDULER_LEASE_RENEW_SECONDS", "must be less than SCHEDULER_LEASE_SECONDS")
    if read.problems:
        raise SettingsError(read.problems)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
