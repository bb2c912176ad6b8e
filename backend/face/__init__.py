"""Face verification for check-ins: detect, gate, align, embed, liveness, decide. See docs/face.md.

A pure service: no web framework, no database. The app holds one `open_face_service(...)` result.
"""

from backend.face.decision import Outcome, Thresholds
from backend.face.engine import Capture, EnrolmentResult, FaceEngine, VerificationResult
from backend.face.models import MODEL_DIR_SETTING, ModelLoadError
from backend.face.quality import QualityLimits, Reason
from backend.face.template import (
    FaceTemplate,
    TemplateError,
    build_template,
    decrypt_template,
    deserialise_template,
    encrypt_template,
    serialise_template,
)
from backend.face.verifier import FaceServiceUnavailable, FaceUnavailable, FaceVerifier, open_face_service

__all__ = [
    "MODEL_DIR_SETTING",
    "Capture",
    "EnrolmentResult",
    "FaceEngine",
    "FaceServiceUnavailable",
    "FaceTemplate",
    "FaceUnavailable",
    "FaceVerifier",
    "ModelLoadError",
    "Outcome",
    "QualityLimits",
    "Reason",
    "TemplateError",
    "Thresholds",
    "VerificationResult",
    "build_template",
    "decrypt_template",
    "deserialise_template",
    "encrypt_template",
    "open_face_service",
    "serialise_template",
]
