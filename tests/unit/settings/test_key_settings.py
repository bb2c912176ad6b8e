"""Key settings: SECRET_KEYS is the shared ring, SECRET_KEY the legacy key, production generates nothing."""

from __future__ import annotations

import base64
import os

import pytest

from backend.core.keyring import LocalKeyStore, legacy_kid, new_key
from backend.settings import SettingsError, load_settings


def _entry(kid: str) -> tuple[str, bytes]:
    secret = os.urandom(32)
    return f"{kid}:{base64.b64encode(secret).decode()}", secret


@pytest.fixture(autouse=True)
def _own_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("REMOTECASE_VAR_DIR", str(tmp_path / "var"))
    for name in ("SECRET_KEYS", "CURRENT_KEY_ID", "REMOTECASE_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_secret_keys_are_the_ring_newest_first_with_secret_key_as_the_legacy_key(monkeypatch):
    (new, new_secret), (old, _) = _entry("k2"), _entry("k1")
    monkeypatch.setenv("SECRET_KEYS", f"{new}, {old}")
    ring = load_settings().keys
    assert [k.kid for k in ring.all()] == ["k2", "k1", legacy_kid(os.environ["SECRET_KEY"].encode())]
    assert ring.current.secret == new_secret
    monkeypatch.setenv("CURRENT_KEY_ID", "k1")  # a key every host has, switched to once they all do
    assert load_settings().keys.current.kid == "k1"


def test_secret_key_alone_is_a_ring_of_one_whose_kid_every_host_derives_alike():
    ring = load_settings().keys
    assert ring.current is ring.legacy and ring.current.kid == legacy_kid(os.environ["SECRET_KEY"].encode())
    assert load_settings().keys.current.kid == ring.current.kid


def test_development_reads_the_keys_rotate_added(tmp_path):
    key = new_key()
    LocalKeyStore(tmp_path / "var").add(key)
    ring = load_settings().keys
    assert ring.current == key and ring.legacy is not None and ring.find(ring.legacy.kid)


def test_production_needs_keys_in_the_environment_and_never_writes_one(tmp_path, monkeypatch):
    monkeypatch.setenv("REMOTECASE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY")
    LocalKeyStore(tmp_path / "var").add(new_key())  # a development store is not a production key
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.variables == ["SECRET_KEYS"]
    assert not (tmp_path / "var" / "secret.key").exists()
    monkeypatch.setenv("SECRET_KEYS", _entry("k1")[0])
    settings = load_settings()
    assert [k.kid for k in settings.keys.all()] == ["k1"] and settings.keys.legacy is None


@pytest.mark.parametrize(
    ("value", "expects"),
    [
        ("k1", "entry 1 must be kid:base64key"),
        ("k1:c2hvcnQ=", "at least 32 bytes (got 5)"),
        ("k1:***", "is not base64"),
        ("bad kid:" + base64.b64encode(b"k" * 32).decode(), "entry 1 must be kid:base64key"),
    ],
)
def test_a_bad_key_list_names_the_variable_and_never_the_key(monkeypatch, value, expects):
    monkeypatch.setenv("SECRET_KEYS", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.variables == ["SECRET_KEYS"] and expects in str(caught.value)
    assert "c2hvcnQ" not in str(caught.value)
