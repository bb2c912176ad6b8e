"""Settings are checked at start: a bad value names its variable and what it expects, all in one error."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from backend.settings import AuthSettings, SettingsError, load_settings

_ROOT = Path(__file__).resolve().parents[3]
# Variables a test may set; cleared first so the developer's own environment cannot leak in. SECRET_KEY,
# DATABASE_URL and REMOTECASE_VAR_DIR stay as the session conftest set them (valid values).
_CHECKED = (
    "ACCESS_TOKEN_SECONDS",
    "OFFICER_IDLE_SECONDS",
    "OFFICER_ABSOLUTE_SECONDS",
    "MOBILE_IDLE_SECONDS",
    "MOBILE_ABSOLUTE_SECONDS",
    "LOCKOUT_BASE_SECONDS",
    "OTP_PER_ADDRESS_PER_HOUR",
    "LIVE_ALERTS_RECHECK_SECONDS",
    "PORT",
    "HOST",
    "WEB_WORKERS",
    "TRUSTED_PROXIES",
    "LOG_LEVEL",
    "REMOTECASE_ENV",
    "STORAGE_DIR",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_VERIFY_SERVICE_SID",
    "TWILIO_FROM",
    "TWILIO_BASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in _CHECKED:
        monkeypatch.delenv(name, raising=False)


def _refused(**env: str) -> SettingsError:
    mp = pytest.MonkeyPatch()
    try:
        for name, value in env.items():
            mp.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        return caught.value
    finally:
        mp.undo()


def test_a_duration_with_a_unit_names_the_variable_and_what_it_expects():
    error = _refused(ACCESS_TOKEN_SECONDS="10m")
    assert error.variables == ["ACCESS_TOKEN_SECONDS"]
    assert str(error) == "ACCESS_TOKEN_SECONDS must be a whole number of seconds (got '10m')"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "ten", "١٠"])
def test_durations_must_be_positive_whole_seconds(value):
    assert _refused(OFFICER_IDLE_SECONDS=value).variables == ["OFFICER_IDLE_SECONDS"]


def test_a_short_secret_key_is_refused_without_echoing_it():
    error = _refused(SECRET_KEY="abcde")
    assert error.variables == ["SECRET_KEY"]
    assert "at least 32 bytes" in str(error) and "got 5" in str(error)
    assert "abcde" not in str(error)


def test_secret_key_length_counts_bytes_as_given(monkeypatch):
    assert _refused(SECRET_KEY="k" * 31).variables == ["SECRET_KEY"]
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert load_settings().secret_key == b"k" * 32
    key = secrets.token_urlsafe(32)  # what the README and the test conftest use
    monkeypatch.setenv("SECRET_KEY", key)
    assert load_settings().secret_key == key.encode()


def test_every_bad_value_is_reported_in_one_error():
    error = _refused(
        ACCESS_TOKEN_SECONDS="10m",
        SECRET_KEY="short",
        PORT="70000",
        WEB_WORKERS="0",
        LOG_LEVEL="LOUD",
        DATABASE_URL="mysql://root:hunter2@db/app",
        TRUSTED_PROXIES="-1",
        LIVE_ALERTS_RECHECK_SECONDS="nan",
    )
    assert sorted(error.variables) == sorted(
        [
            "ACCESS_TOKEN_SECONDS",
            "SECRET_KEY",
            "PORT",
            "WEB_WORKERS",
            "LOG_LEVEL",
            "DATABASE_URL",
            "TRUSTED_PROXIES",
            "LIVE_ALERTS_RECHECK_SECONDS",
        ]
    )
    lines = str(error).splitlines()
    assert len(lines) == 8 and all(line.split()[0] in error.variables for line in lines)
    assert "hunter2" not in str(error)  # a database URL may carry a password: only its scheme is shown


@pytest.mark.parametrize(
    ("name", "value", "expects"),
    [
        ("PORT", "70000", "from 1 to 65535"),
        ("PORT", "0", "from 1 to 65535"),
        ("WEB_WORKERS", "0", "at least 1"),
        ("TRUSTED_PROXIES", "-1", "at least 0"),
        ("LOG_LEVEL", "LOUD", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DATABASE_URL", "mysql://x", "sqlite:///<path> or postgresql://"),
        ("DATABASE_URL", "sqlite:///", "sqlite:///<path> or postgresql://"),
        ("REMOTECASE_ENV", "prod", "one of development, production"),
        ("OTP_PER_ADDRESS_PER_HOUR", "0", "at least 1"),
        ("TWILIO_BASE_URL", "ftp://twilio", "http:// or https://"),
    ],
)
def test_out_of_range_values_are_refused(name, value, expects):
    env = {name: value}
    if name.startswith("TWILIO_"):
        env.update(TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t", TWILIO_VERIFY_SERVICE_SID="VA1")
    error = _refused(**env)
    assert error.variables == [name]
    assert expects in str(error)


def test_a_partial_twilio_setup_is_refused_instead_of_falling_back_to_the_console_sender():
    error = _refused(TWILIO_ACCOUNT_SID="AC1", TWILIO_FROM="+15550100")
    assert sorted(error.variables) == ["TWILIO_AUTH_TOKEN", "TWILIO_VERIFY_SERVICE_SID"]


def test_defaults_are_unchanged(monkeypatch):
    monkeypatch.delenv("FACE_MODEL_DIR", raising=False)
    settings = load_settings()
    assert settings.auth == AuthSettings()
    assert (settings.host, settings.port, settings.workers, settings.trusted_proxies) == (
        "127.0.0.1",
        8000,
        1,
        0,
    )
    assert (settings.log_level, settings.environment) == ("INFO", "development")
    assert settings.storage_dir == settings.var_dir / "files"
    assert settings.face_model_dir is None and not settings.twilio.configured


def test_valid_values_still_load(monkeypatch):
    for name, value in {
        "ACCESS_TOKEN_SECONDS": "900",
        "MOBILE_IDLE_SECONDS": " 3600 ",
        "LIVE_ALERTS_RECHECK_SECONDS": "0.5",
        "PORT": "65535",
        "HOST": "0.0.0.0",
        "WEB_WORKERS": "4",
        "TRUSTED_PROXIES": "2",
        "LOG_LEVEL": "debug",
        "REMOTECASE_ENV": "production",
        "DATABASE_URL": "postgresql://app@db:5432/remotecase",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_VERIFY_SERVICE_SID": "VA1",
        "TWILIO_BASE_URL": "http://127.0.0.1:9999",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.auth.access_token_seconds == 900 and settings.auth.mobile_idle_seconds == 3600
    assert settings.auth.live_alerts_recheck_seconds == 0.5
    assert (settings.host, settings.port, settings.workers, settings.trusted_proxies) == (
        "0.0.0.0",
        65535,
        4,
        2,
    )
    assert (settings.log_level, settings.environment) == ("DEBUG", "production")
    assert settings.database.is_postgres and settings.twilio.configured


def test_the_cli_reports_bad_settings_by_name_and_exits_2():
    env = {**os.environ, "ACCESS_TOKEN_SECONDS": "10m"}
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"],
        cwd=_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "ACCESS_TOKEN_SECONDS must be a whole number of seconds (got '10m')" in done.stderr
    assert "Traceback" not in done.stderr
