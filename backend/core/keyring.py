"""A ring of master keys, each named by a short key id (kid), so keys can rotate without breaking the past.

The current key signs and seals; older keys still verify and open what they signed and sealed. Every
token and sealed blob names the key that made it. Things made before key ids existed name none: they
belong to the legacy key, the single SECRET_KEY (or the development var/secret.key) they were made with.

Formats:
- token: `<kid>.<payload>.<sig>` (HMAC-SHA256 over `<kid>.<payload>`); a two-part `<payload>.<sig>` is a
  legacy token, checked with the legacy key.
- sealed blob: MAGIC, one byte kid length, the kid, then SecretBox's nonce + ciphertext; a blob without
  MAGIC (or one whose MAGIC was only a legacy nonce's first bytes) is opened with the legacy key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag

from backend.core.crypto import SecretBox, TokenSigner, b64d, b64e, derive_key

KID = re.compile(r"[A-Za-z0-9_-]{1,32}")
MIN_KEY_BYTES = 32
MAGIC = b"\x00rk1"  # a sealed blob that names its key


class UnknownKey(InvalidTag):
    """A blob sealed under a key this ring does not hold (an InvalidTag, so callers treat it alike)."""


@dataclass(frozen=True)
class RingKey:
    kid: str
    secret: bytes = field(repr=False)

    def derive(self, purpose: str) -> bytes:
        return derive_key(self.secret, purpose)


def legacy_kid(secret: bytes) -> str:
    """A stable id for a key that came without one: every host sharing SECRET_KEY names it alike."""
    return "legacy-" + hashlib.sha256(b"remotecase key id\x00" + secret).hexdigest()[:8]


def new_key(now: datetime | None = None) -> RingKey:
    """A fresh random key; its kid says when it was made and stays short."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return RingKey(f"k{stamp}-{secrets.token_hex(2)}", os.urandom(32))


def env_entry(key: RingKey) -> str:
    """The key as one SECRET_KEYS entry, `kid:base64key`."""
    return f"{key.kid}:{base64.b64encode(key.secret).decode()}"


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[RingKey, ...]  # the current key first
    legacy: RingKey | None = None  # owns tokens and blobs that name no key

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a key ring needs at least one key")

    @classmethod
    def single(cls, secret: bytes) -> KeyRing:
        key = RingKey(legacy_kid(secret), secret)
        return cls((key,), key)

    @property
    def current(self) -> RingKey:
        return self.keys[0]

    def all(self) -> list[RingKey]:
        """Every key that still verifies, the current one first, each once."""
        keys = list(self.keys)
        if self.legacy is not None and all(k.kid != self.legacy.kid for k in keys):
            keys.append(self.legacy)
        return keys

    def find(self, kid: str) -> RingKey | None:
        return next((k for k in self.all() if k.kid == kid), None)

    def rotated(self, key: RingKey) -> KeyRing:
        return KeyRing((key, *(k for k in self.keys if k.kid != key.kid)), self.legacy)


def parse_key_list(text: str) -> tuple[list[RingKey], list[str]]:
    """SECRET_KEYS: comma-separated `kid:base64key`, newest first. Returns the keys and what is wrong,
    never quoting key material."""
    keys: list[RingKey] = []
    problems: list[str] = []
    for position, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        kid, sep, material = entry.partition(":")
        if not sep or not KID.fullmatch(kid):
            problems.append(f"entry {position} must be kid:base64key, the kid 1-32 of A-Z a-z 0-9 _ -")
            continue
        try:
            secret = b64d(material.strip())
        except ValueError:
            problems.append(f"key {kid!r} is not base64")
            continue
        if len(secret) < MIN_KEY_BYTES:
            problems.append(f"key {kid!r} must decode to at least {MIN_KEY_BYTES} bytes (got {len(secret)})")
        elif any(k.kid == kid for k in keys):
            problems.append(f"key id {kid!r} appears twice")
        else:
            keys.append(RingKey(kid, secret))
    if not keys and not problems:
        problems.append("lists no key")
    return keys, problems


class LocalKeyStore:
    """Development only: rotated keys kept in var/keys.json (never committed, never used in production,
    where every host reads the same SECRET_KEYS)."""

    def __init__(self, var_dir: Path) -> None:
        self.path = var_dir / "keys.json"

    def load(self) -> list[RingKey]:
        if not self.path.exists():
            return []
        stored = json.loads(self.path.read_text())
        return [RingKey(k["kid"], b64d(k["key"])) for k in stored["keys"]]

    def add(self, key: RingKey) -> None:
        """The new key becomes the newest (the current one); the older ones stay to verify."""
        keys = [key, *self.load()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"keys": [{"kid": k.kid, "key": b64e(k.secret)} for k in keys]}, indent=2)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o600)
        tmp.replace(self.path)


class RingTokenSigner:
    """HMAC tokens naming their key: `<kid>.<payload>.<sig>`."""

    def __init__(self, ring: KeyRing, purpose: str) -> None:
        self._ring, self._purpose = ring, purpose

    def sign(self, claims: dict) -> str:
        key = self._ring.current
        head = f"{key.kid}.{b64e(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())}"
        return f"{head}.{_mac(key.derive(self._purpose), head)}"

    def verify(self, token: str) -> dict | None:
        if not token.isascii():
            return None
        parts = token.split(".")
        if len(parts) == 2:  # made before key ids: only the legacy key may have signed it
            legacy = self._ring.legacy
            return TokenSigner(legacy.derive(self._purpose)).verify(token) if legacy else None
        if len(parts) != 3 or not all(parts):
            return None
        key = self._ring.find(parts[0])
        if key is None:  # signed by a key this ring does not hold (retired, or never ours)
            return None
        head = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(_mac(key.derive(self._purpose), head).encode(), parts[2].encode()):
            return None
        try:
            claims = json.loads(b64d(parts[1]))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None


def token_kid(token: str) -> str | None:
    parts = token.split(".")
    return parts[0] if len(parts) == 3 else None


class RingBox:
    """SecretBox under the ring: seals with the current key, opens with the key the blob names."""

    def __init__(self, ring: KeyRing, purpose: str) -> None:
        self._ring, self._purpose = ring, purpose

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        key = self._ring.current
        kid = key.kid.encode()
        sealed = SecretBox(key.derive(self._purpose)).seal(plaintext, context)
        return MAGIC + bytes([len(kid)]) + kid + sealed

    def open(self, blob: bytes, context: bytes = b"") -> bytes:
        kid = blob_kid(blob)
        if kid is not None and (key := self._ring.find(kid)) is not None:
            try:
                return SecretBox(key.derive(self._purpose)).open(blob[len(MAGIC) + 1 + len(kid) :], context)
            except InvalidTag:
                if self._ring.legacy is None:
                    raise
        if self._ring.legacy is None:
            raise UnknownKey(f"sealed under key {kid!r}, which this ring does not hold")
        try:  # no kid: sealed before key ids, by the legacy key
            return SecretBox(self._ring.legacy.derive(self._purpose)).open(blob, context)
        except InvalidTag:
            if kid is not None and self._ring.find(kid) is None:
                raise UnknownKey(f"sealed under key {kid!r}, which this ring does not hold") from None
            raise


def blob_kid(blob: bytes) -> str | None:
    """The kid a sealed blob names, or None for a legacy blob."""
    if not blob.startswith(MAGIC) or len(blob) <= len(MAGIC):
        return None
    size = blob[len(MAGIC)]
    kid = blob[len(MAGIC) + 1 : len(MAGIC) + 1 + size]
    try:
        text = kid.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if len(kid) == size and KID.fullmatch(text) else None


def _mac(key: bytes, text: str) -> str:
    return b64e(hmac.new(key, text.encode(), hashlib.sha256).digest())
