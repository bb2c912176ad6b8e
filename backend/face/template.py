"""Enrolment templates: build, compare, serialise, and encrypt at rest (AES-256-GCM)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag

from backend.core.crypto import SecretBox

_MAGIC = b"RCFT"
_FORMAT = 1
_HEADER = struct.Struct("<4sBHBH")  # magic, format, dimension, count, length of the model id


class TemplateError(ValueError):
    """A template blob that is corrupt, of an unknown format, or encrypted under another key."""


def l2_normalise(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("cannot normalise a zero or non-finite embedding")
    return vector / norm


@dataclass(frozen=True, eq=False)
class FaceTemplate:
    embeddings: np.ndarray  # (n, d) float32, each row L2-normalised
    model: str = ""  # the recogniser that made them: embeddings of two models are not comparable

    @property
    def mean(self) -> np.ndarray:
        """The normalised mean embedding, the vector a probe is scored against."""
        return l2_normalise(self.embeddings.mean(axis=0))

    def similarity(self, probe: np.ndarray) -> float:
        """Cosine similarity of an L2-normalised probe with the normalised mean embedding."""
        return float(np.dot(self.mean, probe))

    def best_single(self, probe: np.ndarray) -> float:
        """Cosine with the closest enrolment photo; recorded beside the main score."""
        return float(np.max(self.embeddings @ probe))


def build_template(embeddings: Sequence[np.ndarray], model: str = "") -> FaceTemplate:
    if len(embeddings) == 0:
        raise ValueError("a template needs at least one embedding")
    rows = np.stack([l2_normalise(e) for e in embeddings])
    return FaceTemplate(rows, model)


def serialise_template(template: FaceTemplate) -> bytes:
    # The mean is derived on load, so a stored template can never disagree with itself.
    count, dim = template.embeddings.shape
    model = template.model.encode()
    header = _HEADER.pack(_MAGIC, _FORMAT, dim, count, len(model))
    return header + model + template.embeddings.astype("<f4").tobytes()


def deserialise_template(data: bytes) -> FaceTemplate:
    if len(data) < _HEADER.size:
        raise TemplateError("template blob is truncated")
    magic, fmt, dim, count, model_len = _HEADER.unpack_from(data)
    if magic != _MAGIC or fmt != _FORMAT:
        raise TemplateError("not a face template of a known format")
    body = data[_HEADER.size :]
    if len(body) != model_len + 4 * dim * count or count == 0:
        raise TemplateError("template blob has the wrong length")
    model = body[:model_len].decode()
    rows = np.frombuffer(body[model_len:], dtype="<f4").reshape(count, dim).astype(np.float32)
    return FaceTemplate(rows, model)


def _box(key):
    # A 32-byte key, or a box that seals itself (backend.core.keyring.RingBox: the blob names its key).
    return SecretBox(key) if isinstance(key, bytes | bytearray) else key


def encrypt_template(template: FaceTemplate, key, context: bytes = b"") -> bytes:
    """Seal a template under a 32-byte key or a key ring's box (RingBox(ring, "face-template")).

    `context` is authenticated but not stored, e.g. the person's id: a blob copied onto another person's
    record then fails to decrypt instead of verifying someone else's face.
    """
    return _box(key).seal(serialise_template(template), context)


def decrypt_template(blob: bytes, key, context: bytes = b"") -> FaceTemplate:
    """Open a sealed template; under a ring, with the key the blob names (or the legacy key: no name)."""
    try:
        plain = _box(key).open(blob, context)
    except (InvalidTag, ValueError) as exc:
        raise TemplateError("template cannot be decrypted with this key and context") from exc
    return deserialise_template(plain)
