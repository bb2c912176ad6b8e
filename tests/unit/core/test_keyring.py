"""The key ring: tokens and sealed blobs name their key; a rotation keeps the past readable; blobs and
tokens made before key ids (the legacy SECRET_KEY) still open and verify."""

from __future__ import annotations

import base64
import json
import warnings

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from backend.core.crypto import SecretBox, TokenSigner, derive_key
from backend.core.keyring import (
    KeyRing,
    RingBox,
    RingTokenSigner,
    blob_kid,
    new_key,
    parse_key_list,
    token_kid,
)
from backend.face.template import TemplateError, build_template, decrypt_template, encrypt_template
from backend.supervision.checkins.receipts import ReceiptSigner, receipt_kid, verify_receipt

LEGACY = b"an old SECRET_KEY of 32 bytes or more"


def _rotated() -> tuple[KeyRing, KeyRing]:
    before = KeyRing.single(LEGACY)
    return before, before.rotated(new_key())


def test_tokens_name_their_key_and_survive_a_rotation():
    before, after = _rotated()
    old = RingTokenSigner(before, "access-token").sign({"sid": "s1"})
    signer = RingTokenSigner(after, "access-token")
    new = signer.sign({"sid": "s2"})
    assert token_kid(old) == before.current.kid and token_kid(new) == after.current.kid != token_kid(old)
    assert signer.verify(old) == {"sid": "s1"} and signer.verify(new) == {"sid": "s2"}
    # The ring that never held the new key refuses its tokens, as does any other purpose.
    assert RingTokenSigner(before, "access-token").verify(new) is None
    assert RingTokenSigner(after, "other").verify(new) is None


def test_a_token_from_before_key_ids_verifies_with_the_legacy_key_only():
    legacy_token = TokenSigner(derive_key(LEGACY, "access-token")).sign({"sid": "old"})
    _, after = _rotated()
    assert RingTokenSigner(after, "access-token").verify(legacy_token) == {"sid": "old"}
    other = KeyRing.single(b"another legacy key, 32 bytes long!!")
    assert RingTokenSigner(other, "access-token").verify(legacy_token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "nosuchkid" + t[t.index(".") :],  # a kid the ring does not hold
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # a forged signature
        lambda t: t + ".x",
        lambda t: "..",
        lambda t: t + "é",
    ],
)
def test_a_mangled_token_is_refused(mangle):
    ring = KeyRing.single(LEGACY)
    assert RingTokenSigner(ring, "access-token").verify(mangle(RingTokenSigner(ring, "t").sign({}))) is None


def test_sealed_blobs_name_their_key_and_open_after_a_rotation():
    before, after = _rotated()
    old = RingBox(before, "totp-secret").seal(b"JBSWY3DPEHPK3PXP", b"totp")
    box = RingBox(after, "totp-secret")
    new = box.seal(b"NEWSECRET", b"totp")
    assert blob_kid(old) == before.current.kid and blob_kid(new) == after.current.kid
    assert box.open(old, b"totp") == b"JBSWY3DPEHPK3PXP" and box.open(new, b"totp") == b"NEWSECRET"
    with pytest.raises(InvalidTag):  # the context still binds the blob
        box.open(new, b"other")
    with pytest.raises(InvalidTag):  # sealed by a key this ring never held
        RingBox(before, "totp-secret").open(new, b"totp")


def test_a_blob_sealed_before_key_ids_opens_with_the_legacy_key():
    legacy_blob = SecretBox(derive_key(LEGACY, "totp-secret")).seal(b"OLDSECRET", b"totp")
    assert blob_kid(legacy_blob) is None
    _, after = _rotated()
    assert RingBox(after, "totp-secret").open(legacy_blob, b"totp") == b"OLDSECRET"


def test_face_templates_seal_under_the_ring_and_old_ones_still_open():
    template = build_template([np.eye(8, dtype=np.float32)[i] + 0.1 for i in range(3)], "m1")
    legacy_blob = encrypt_template(template, derive_key(LEGACY, "face-template"), b"person-1")
    before, after = _rotated()
    ringed = encrypt_template(template, RingBox(before, "face-template"), b"person-1")
    box = RingBox(after, "face-template")
    for blob in (legacy_blob, ringed):
        opened = decrypt_template(blob, box, b"person-1")
        assert np.allclose(opened.embeddings, template.embeddings) and opened.model == "m1"
    with pytest.raises(TemplateError):
        decrypt_template(ringed, box, b"person-2")
    assert blob_kid(encrypt_template(template, box, b"p")) == after.current.kid


def _court_verifies(receipt: str, jwks: dict) -> dict:
    """What a court does with a stock JOSE library: the JWKS and the receipt, nothing of ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc notes that RFC 9864 renames EdDSA; still standard
        compact = jws.deserialize_compact(receipt, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    return json.loads(compact.payload)


def test_receipts_are_compact_jws_that_a_jose_library_verifies_after_a_rotation():
    before, after = _rotated()
    old = ReceiptSigner(before).sign({"type": "checkin", "outcome": "accepted", "who": "孙强"})
    signer = ReceiptSigner(after)
    new = signer.sign({"type": "checkin", "outcome": "rejected"})
    header = json.loads(base64.urlsafe_b64decode(new.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": after.current.kid, "typ": "JWT"}
    assert receipt_kid(old) == before.current.kid
    jwks = signer.jwks()
    assert [k["kid"] for k in jwks["keys"]] == [after.current.kid, before.current.kid]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["use"] == "sig" for k in jwks["keys"])
    assert all(set(k) == {"kty", "crv", "x", "kid", "use", "alg"} for k in jwks["keys"])  # no private "d"
    assert _court_verifies(old, jwks)["who"] == "孙强"
    assert _court_verifies(new, jwks)["outcome"] == "rejected"
    assert verify_receipt(old, jwks)["outcome"] == "accepted"
    forged = new.split(".")
    forged[1] = base64.urlsafe_b64encode(b'{"outcome":"accepted"}').rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        _court_verifies(".".join(forged), jwks)
    assert verify_receipt(".".join(forged), jwks) is None
    # The legacy key's Ed25519 key is the one receipts were signed with before key ids.
    assert ReceiptSigner(LEGACY).public_key_b64 == jwks["keys"][1]["x"]


def test_a_receipt_from_before_key_ids_still_verifies_against_the_jwks():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from backend.core.crypto import b64e

    body = b'{"outcome":"accepted","type":"checkin"}'
    key = Ed25519PrivateKey.from_private_bytes(derive_key(LEGACY, "receipt-ed25519"))
    legacy_receipt = f"{b64e(body)}.{b64e(key.sign(body))}"
    _, after = _rotated()
    assert verify_receipt(legacy_receipt, ReceiptSigner(after).jwks()) == {
        "outcome": "accepted",
        "type": "checkin",
    }


def test_the_key_list_is_parsed_without_echoing_key_material():
    key = base64.b64encode(b"s" * 32).decode()
    keys, problems = parse_key_list(f"k2:{key}, k1:{base64.b64encode(b't' * 40).decode()}")
    assert [k.kid for k in keys] == ["k2", "k1"] and problems == []
    _, problems = parse_key_list(f"k2:{key},k2:{key},bad kid:{key},k3:c2hvcnQ=,k4:%%%")
    assert len(problems) == 4 and not any(key in p or "c2hvcnQ" in p for p in problems)
    assert parse_key_list(" , ")[1] == ["lists no key"]
