from __future__ import annotations

import os

import numpy as np
import pytest

from backend.core.crypto import derive_key
from backend.face.template import (
    TemplateError,
    build_template,
    decrypt_template,
    deserialise_template,
    encrypt_template,
    serialise_template,
)

KEY = derive_key(b"test secret", "face-template")


@pytest.fixture(scope="module")
def template(engine, photo_bytes):
    result = engine.enrol([photo_bytes("Gerhard_Schroeder", n) for n in (1, 2, 3)])
    assert result.ok, result.photo_reasons
    return result.template


def test_template_is_normalised_mean_plus_individual_embeddings(template):
    assert template.embeddings.shape == (3, 512)
    assert np.allclose(np.linalg.norm(template.embeddings, axis=1), 1.0, atol=1e-5)
    mean = template.embeddings.mean(axis=0)
    assert np.allclose(template.mean, mean / np.linalg.norm(mean), atol=1e-6)
    assert template.model.startswith("w600k_mbf_int8.onnx:")


def test_template_round_trips_through_encryption(template):
    blob = encrypt_template(template, KEY, context=b"person-42")
    assert serialise_template(template) not in blob  # sealed, not merely wrapped
    back = decrypt_template(blob, KEY, context=b"person-42")
    assert np.array_equal(back.embeddings, template.embeddings)
    assert back.model == template.model
    probe = template.embeddings[0]
    assert back.similarity(probe) == template.similarity(probe)


def test_each_encryption_uses_a_fresh_nonce(template):
    assert encrypt_template(template, KEY) != encrypt_template(template, KEY)


@pytest.mark.parametrize(
    ("key", "context"),
    [(derive_key(b"other secret", "face-template"), b"person-42"), (KEY, b"person-43")],
    ids=["wrong key", "another person's record"],
)
def test_decryption_fails_with_wrong_key_or_context(template, key, context):
    blob = encrypt_template(template, KEY, context=b"person-42")
    with pytest.raises(TemplateError):
        decrypt_template(blob, key, context=context)


def test_tampered_blob_is_refused(template):
    blob = bytearray(encrypt_template(template, KEY))
    blob[40] ^= 1
    with pytest.raises(TemplateError):
        decrypt_template(bytes(blob), KEY)


def test_serialisation_rejects_garbage_and_truncation(template):
    data = serialise_template(template)
    with pytest.raises(TemplateError):
        deserialise_template(data[:-4])
    with pytest.raises(TemplateError):
        deserialise_template(b"not a template at all")


def test_build_template_normalises_its_inputs():
    rng = np.random.default_rng(1)
    raw = [rng.normal(size=512) * 7 for _ in range(4)]
    template = build_template(raw)
    assert np.allclose(np.linalg.norm(template.embeddings, axis=1), 1.0, atol=1e-5)
    assert abs(np.linalg.norm(template.mean) - 1.0) < 1e-5
    with pytest.raises(ValueError):
        build_template([])
    with pytest.raises(ValueError):
        build_template([np.zeros(512)])


def test_key_must_be_an_aes_key(template):
    with pytest.raises(ValueError):
        encrypt_template(template, os.urandom(7))
