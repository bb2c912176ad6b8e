"""The receipts' public keys as a JWKS (RFC 7517): public, no sign-in, cacheable.

Served twice: at /.well-known/jwks.json, where JOSE tools look, and at /m/v1/receipts/jwks beside the
phone API. Every key of the ring is listed, so receipts signed before a rotation still verify.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency

from backend.supervision.checkins.receipts import ReceiptSigner

# Keys change only when the ring rotates (a restart): an hour of caching is safe, and tools refetch on
# an unknown kid anyway.
_CACHE = CacheControlHeader(public=True, max_age=3600)


class Jwk(msgspec.Struct):
    """One Ed25519 public key (RFC 8037 OKP)."""

    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str


class Jwks(msgspec.Struct):
    keys: list[Jwk]


class ReceiptPublicKey(msgspec.Struct):
    """The current receipt key: raw Ed25519, base64url, named by the kid receipts carry in their header."""

    algorithm: str
    public_key: str
    kid: str


def public_key(signer: ReceiptSigner) -> ReceiptPublicKey:
    return ReceiptPublicKey(algorithm="Ed25519", public_key=signer.public_key_b64, kid=signer.kid)


def _jwks(receipts: ReceiptSigner) -> Jwks:
    return msgspec.convert(receipts.jwks(), Jwks)


class ReceiptJwksController(Controller):
    path = "/receipts"
    tags = ["phone: supervision"]

    @get("/jwks", operation_id="receiptJwks", cache_control=_CACHE)
    async def jwks(self, receipts: NamedDependency[ReceiptSigner]) -> Jwks:
        """Every public key that signs receipts, as a JSON Web Key Set: verify a receipt's JWS by its kid."""
        return _jwks(receipts)


@get("/.well-known/jwks.json", operation_id="wellKnownJwks", tags=["receipts"], cache_control=_CACHE)
async def well_known_jwks(receipts: NamedDependency[ReceiptSigner]) -> Jwks:
    """The receipts' JSON Web Key Set at the well-known address JOSE tools look for."""
    return _jwks(receipts)


WELL_KNOWN = Router(path="/", route_handlers=[well_known_jwks])
