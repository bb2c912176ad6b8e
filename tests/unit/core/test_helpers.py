"""Pure helpers: ids, tokens, encryption, cursors, jurisdiction, JSON logs."""

from __future__ import annotations

import json
import logging
import time

import pytest
from cryptography.exceptions import InvalidTag

from backend.accounts.access import jurisdiction_prefix
from backend.core.context import request_id_var
from backend.core.crypto import SecretBox, TokenSigner, derive_key
from backend.core.errors import InvalidInput
from backend.core.ids import uuid7
from backend.core.logging import JsonFormatter
from backend.core.pagination import decode_cursor, encode_cursor


def test_uuid7_is_versioned_and_time_ordered():
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert first.version == 7 and second.version == 7
    assert first < second


def test_signed_tokens_reject_tampering_and_other_keys():
    signer = TokenSigner(b"k" * 32)
    token = signer.sign({"sid": "s", "exp": 1})
    assert signer.verify(token) == {"sid": "s", "exp": 1}
    assert signer.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert TokenSigner(b"j" * 32).verify(token) is None
    assert signer.verify("garbage") is None


def test_secret_box_round_trips_and_binds_its_context():
    box = SecretBox(derive_key(b"master", "totp-secret"))
    sealed = box.seal(b"JBSWY3DPEHPK3PXP", b"totp")
    assert box.open(sealed, b"totp") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidTag):
        box.open(sealed, b"other")
    assert derive_key(b"master", "a") != derive_key(b"master", "b")


def test_cursors_round_trip_and_refuse_forgeries():
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor(encode_cursor("abc")) == "abc"
    for bad in ("%%%", "aGVsbG8", "!!"):
        with pytest.raises(InvalidInput):
            decode_cursor(bad)


def test_jurisdiction_prefix_follows_division_codes():
    assert jurisdiction_prefix("330000") == "33"
    assert jurisdiction_prefix("330100") == "3301"
    assert jurisdiction_prefix("330106") == "330106"


def test_log_lines_are_json_with_the_request_id():
    token = request_id_var.set("req-abc-123")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.path = "/health"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-abc-123"
    assert line["path"] == "/health"


def test_base64_accepts_both_alphabets_with_or_without_padding_and_refuses_garbage():
    import base64
    import os

    import pytest

    from backend.core.crypto import b64d, b64e

    data = os.urandom(1001)
    for text in (b64e(data), base64.b64encode(data).decode(), base64.b64encode(data).decode().rstrip("=")):
        assert b64d(text) == data
    for bad in ("ab!c", "abc d", "a", "é"):
        with pytest.raises(ValueError):
            b64d(bad)
