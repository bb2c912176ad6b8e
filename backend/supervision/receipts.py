"""Receipts signed by the server (Ed25519): the person keeps proof of every submission, even a rejected one.

A receipt is `<payload>.<signature>`, both base64url; the payload is canonical JSON. Anyone holding the public
key (GET /m/v1/receipts/public-key) can check it offline.
"""

from __future__ import annotations

import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.core.crypto import b64d, b64e, derive_key


def canonical(payload: dict) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


class ReceiptSigner:
    def __init__(self, secret_key: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(derive_key(secret_key, "receipt-ed25519"))

    @property
    def public_key_b64(self) -> str:
        return b64e(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, payload: dict) -> str:
        body = canonical(payload)
        return f"{b64e(body)}.{b64e(self._key.sign(body))}"


def verify_receipt(receipt: str, public_key_b64: str) -> dict | None:
    body_b64, _, sig_b64 = receipt.partition(".")
    try:
        body = b64d(body_b64)
        Ed25519PublicKey.from_public_bytes(b64d(public_key_b64)).verify(b64d(sig_b64), body)
    except (ValueError, InvalidSignature):
        return None
    return json.loads(body)


def verify_device_signature(public_key_b64: str, payload: dict, signature_b64: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(b64d(public_key_b64)).verify(
            b64d(signature_b64), canonical(payload)
        )
    except (ValueError, InvalidSignature):
        return False
    return True
