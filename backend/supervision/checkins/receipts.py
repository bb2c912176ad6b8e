"""Receipts signed by the server: the person keeps proof of every submission, even a rejected one.

A receipt is an RFC 7515 compact JWS: `<header>.<payload>.<signature>`, each base64url. The protected
header is {"alg": "EdDSA", "kid": ..., "typ": "JWT"}, the payload the receipt's canonical JSON, the
signature Ed25519 (RFC 8037) over `<header>.<payload>`. Each key of the ring has its own Ed25519 key; all
their public keys are published as a JWKS (RFC 7517) at /.well-known/jwks.json and /m/v1/receipts/jwks,
so a court checks a receipt offline with any JOSE library (docs/supervision.md, "Verifying a receipt").

Receipts made before key ids are `<payload>.<signature>` (Ed25519 over the payload bytes) by the legacy
key; they still verify, against the legacy key's public key in the JWKS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.core.crypto import b64d, b64e
from backend.core.keyring import KeyRing, RingKey

ALGORITHM = "EdDSA"
TYPE = "JWT"  # the payload is a JSON object: stock JWT tools (PyJWT, jose, jwt.io) read it as is


def canonical(payload: dict) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def _private(key: RingKey) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(key.derive("receipt-ed25519"))


def _raw_public(key: Ed25519PrivateKey) -> str:
    return b64e(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


class ReceiptSigner:
    def __init__(self, keys: KeyRing | bytes) -> None:
        self._ring = keys if isinstance(keys, KeyRing) else KeyRing.single(keys)
        self._current = _private(self._ring.current)
        self._public = {key.kid: _raw_public(_private(key)) for key in self._ring.all()}

    @property
    def kid(self) -> str:
        return self._ring.current.kid

    @property
    def public_key_b64(self) -> str:
        """The current key's raw Ed25519 public key, base64url."""
        return self._public[self.kid]

    def sign(self, payload: dict) -> str:
        header = b64e(canonical({"alg": ALGORITHM, "kid": self.kid, "typ": TYPE}))
        signing_input = f"{header}.{b64e(canonical(payload))}"
        return f"{signing_input}.{b64e(self._current.sign(signing_input.encode()))}"

    def jwks(self) -> dict:
        """Every ring key's public key as an RFC 7517 key set (OKP, Ed25519), the current one first."""
        return {"keys": [jwk(kid, x) for kid, x in self._public.items()]}


def jwk(kid: str, x: str) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": ALGORITHM}


def _public_keys(keys: str | Mapping) -> dict[str | None, str]:
    """kid -> raw public key from a JWKS, a {kid: key} mapping, or one bare key (any kid)."""
    if isinstance(keys, str):
        return {None: keys}
    if "keys" in keys:
        return {
            k.get("kid"): k["x"]
            for k in keys["keys"]
            if k.get("kty") == "OKP" and k.get("crv") == "Ed25519" and "x" in k
        }
    return dict(keys)


def _verified(public_b64: str, signature_b64: str, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(b64d(public_b64)).verify(b64d(signature_b64), data)
    except (ValueError, InvalidSignature):
        return False
    return True


def verify_receipt(receipt: str, keys: str | Mapping) -> dict | None:
    """The receipt's payload if a key of `keys` (a JWKS, a {kid: key} mapping or one raw public key)
    signed it; None otherwise."""
    if not receipt.isascii():
        return None
    public = _public_keys(keys)
    parts = receipt.split(".")
    try:
        if len(parts) == 3:
            header = json.loads(b64d(parts[0]))
            if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
                return None
            kid = header.get("kid")
            key = (public.get(kid) if isinstance(kid, str) else None) or public.get(None)
            if key is None or not _verified(key, parts[2], f"{parts[0]}.{parts[1]}".encode()):
                return None
            payload = json.loads(b64d(parts[1]))
        elif len(parts) == 2:  # made before key ids: Ed25519 over the payload bytes, no header
            body = b64d(parts[0])
            if not any(_verified(key, parts[1], body) for key in public.values()):
                return None
            payload = json.loads(body)
        else:
            return None
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def receipt_kid(receipt: str) -> str | None:
    """The kid a receipt's header names (None for a receipt made before key ids)."""
    parts = receipt.split(".")
    if len(parts) != 3:
        return None
    try:
        return json.loads(b64d(parts[0])).get("kid")
    except (ValueError, AttributeError):
        return None


def verify_device_signature(public_key_b64: str, payload: dict, signature_b64: str) -> bool:
    return _verified(public_key_b64, signature_b64, canonical(payload))
