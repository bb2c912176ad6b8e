"""The synchronous face pipeline: decode, detect, gate, align, embed, liveness, decide.

Everything here is blocking CPU work; backend.face.verifier runs it off the event loop.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from insightface.utils import face_align

from backend.face.decision import Outcome, Thresholds, decide
from backend.face.detect import DetectedFace, ImageDecodeError, competing_faces, decode_image, detect_faces
from backend.face.liveness import LivenessScore, score_liveness
from backend.face.models import FaceModels
from backend.face.quality import (
    MULTIPLE_FACES,
    NO_FACE,
    UNREADABLE,
    QualityLimits,
    QualityReport,
    Reason,
    assess,
)
from backend.face.template import FaceTemplate, build_template, l2_normalise

# insightface 2.1's norm_crop calls scikit-image's SimilarityTransform.estimate, deprecated since 0.26
# (removed in 2.2): one warning per process that nobody here can act on.
warnings.filterwarnings(
    "ignore", "`estimate` is deprecated", FutureWarning, r"insightface\.utils\.face_align"
)

ENROL_MIN_PHOTOS = 3
ENROL_MAX_PHOTOS = 5
# Texts: the message catalogues (backend/i18n, `reason.<code>`).
WRONG_PHOTO_COUNT = Reason("wrong_photo_count", (("min", ENROL_MIN_PHOTOS), ("max", ENROL_MAX_PHOTOS)))
INCONSISTENT = Reason("inconsistent_photos")
MODEL_MISMATCH = Reason("template_model_mismatch")


@dataclass(frozen=True, eq=False)
class Capture:
    """One photo, analysed. `reasons` is empty when the photo can be used."""

    reasons: tuple[Reason, ...]
    faces_found: int = 0
    face: DetectedFace | None = None
    quality: QualityReport | None = None
    embedding: np.ndarray | None = None
    liveness: LivenessScore | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not self.reasons and self.embedding is not None


@dataclass(frozen=True, eq=False)
class VerificationResult:
    """Everything a check-in attempt record needs: outcome, reasons and every score."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    similarity: float | None
    best_single: float | None
    capture: Capture
    thresholds: Thresholds

    @property
    def liveness(self) -> float | None:
        return self.capture.liveness.score if self.capture.liveness else None

    def to_record(self) -> dict:
        """Plain JSON-ready data for the attempt record and the API response."""
        cap, q = self.capture, self.capture.quality
        return {
            "outcome": self.outcome.value,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "similarity": self.similarity,
            "best_single": self.best_single,
            "liveness": self.liveness,
            "liveness_per_model": cap.liveness.per_model if cap.liveness else None,
            "faces_found": cap.faces_found,
            "det_score": cap.face.score if cap.face else None,
            "quality": None if q is None else {k: v for k, v in asdict(q).items() if k != "reasons"},
            "thresholds": asdict(self.thresholds),
            "timings_ms": cap.timings_ms,
        }


@dataclass(frozen=True, eq=False)
class EnrolmentResult:
    template: FaceTemplate | None  # None when refused
    reasons: tuple[Reason, ...]  # about the set as a whole
    captures: tuple[Capture, ...]
    photo_reasons: tuple[tuple[Reason, ...], ...]  # per photo, in the order given

    @property
    def ok(self) -> bool:
        return self.template is not None


@dataclass(frozen=True, eq=False)
class Located:
    """A photo after detection, gate and alignment: what embedding and liveness start from."""

    img: np.ndarray
    faces_found: int
    face: DetectedFace
    aligned: np.ndarray
    quality: QualityReport
    reasons: tuple[Reason, ...]
    timings_ms: dict[str, float]

    def capture(
        self,
        embedding: np.ndarray | None = None,
        liveness: LivenessScore | None = None,
        timings_ms: dict[str, float] | None = None,
    ) -> Capture:
        timings = {**self.timings_ms, **(timings_ms or {})}
        return Capture(self.reasons, self.faces_found, self.face, self.quality, embedding, liveness, timings)


def _since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


class FaceEngine:
    """Thread-safe: onnxruntime sessions may run concurrently and nothing else here is mutated."""

    def __init__(
        self,
        models: FaceModels,
        *,
        limits: QualityLimits | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.models = models
        self.limits = limits or QualityLimits()
        self.thresholds = thresholds or Thresholds()

    def locate(self, image: bytes | np.ndarray) -> Located | Capture:
        """Decode, detect, gate and align; a Capture (refused) when there is no face to go on."""
        timings: dict[str, float] = {}
        start = time.perf_counter()
        if isinstance(image, bytes | bytearray | memoryview):
            try:
                img = decode_image(bytes(image))
            except ImageDecodeError:
                return Capture((UNREADABLE,), timings_ms=timings)
            timings["decode"] = _since(start)
            start = time.perf_counter()
        else:
            img = image
        faces = detect_faces(self.models.detector, img, self.models.detector_sizes)
        timings["detect"] = _since(start)
        start = time.perf_counter()
        if not faces:
            return Capture((NO_FACE,), timings_ms=timings)
        face = faces[0]
        aligned = face_align.norm_crop(img, landmark=face.kps)
        quality = assess(face, aligned, self.limits)
        reasons = ((MULTIPLE_FACES,) if competing_faces(faces) else ()) + quality.reasons
        timings["align_quality"] = _since(start)
        return Located(img, len(faces), face, aligned, quality, reasons, timings)

    def embed(self, aligned_bgr: np.ndarray) -> np.ndarray:
        # One face per call: the int8 model scales activations per batch, so batching would shift vectors.
        return l2_normalise(self.models.recogniser.get_feat(aligned_bgr))

    def liveness(self, img: np.ndarray, face: DetectedFace) -> LivenessScore | None:
        return score_liveness(self.models.liveness, img, face.bbox) if self.models.liveness else None

    def analyse(self, image: bytes | np.ndarray, *, embed_anyway: bool = False) -> Capture:
        """Detect, gate, align, embed and score liveness for the main face of one photo.

        A capture that fails the gate stops there, unless `embed_anyway` (the evaluation scores every
        photo it can find a face in, then reports the gate's verdicts separately).
        """
        located = self.locate(image)
        if isinstance(located, Capture):
            return located
        if located.reasons and not embed_anyway:
            return located.capture()
        start = time.perf_counter()
        embedding = self.embed(located.aligned)
        embed_ms = _since(start)
        start = time.perf_counter()
        liveness = self.liveness(located.img, located.face)
        return located.capture(embedding, liveness, {"embed": embed_ms, "liveness": _since(start)})

    def judge(self, capture: Capture, template: FaceTemplate) -> VerificationResult:
        """The outcome for an analysed capture against an enrolled template."""
        if template.model and template.model != self.models.recogniser_id:
            refused: tuple[Reason, ...] | None = (MODEL_MISMATCH,)
        else:
            refused = None if capture.usable else capture.reasons
        if refused:
            return VerificationResult(Outcome.REFUSED, refused, None, None, capture, self.thresholds)
        similarity = template.similarity(capture.embedding)
        liveness = capture.liveness.score if capture.liveness else None
        outcome, reasons = decide(similarity, liveness, self.thresholds)
        return VerificationResult(
            outcome, reasons, similarity, template.best_single(capture.embedding), capture, self.thresholds
        )

    def verify(self, image: bytes | np.ndarray, template: FaceTemplate) -> VerificationResult:
        return self.judge(self.analyse(image), template)

    def enrol(self, images: Sequence[bytes | np.ndarray]) -> EnrolmentResult:
        """Build a template from 3 to 5 photos, each passing the quality gate, all of one person."""
        if not ENROL_MIN_PHOTOS <= len(images) <= ENROL_MAX_PHOTOS:
            return EnrolmentResult(None, (WRONG_PHOTO_COUNT,), (), ())
        captures = tuple(self.analyse(image) for image in images)
        photo_reasons = [list(c.reasons) for c in captures]
        if all(c.usable for c in captures):
            embeddings = np.stack([c.embedding for c in captures])
            for i in range(len(embeddings)):
                # Each photo against the mean of the others, on the same scale as a check-in's score.
                others = build_template(np.delete(embeddings, i, axis=0))
                if others.similarity(embeddings[i]) < self.thresholds.reject:
                    photo_reasons[i].append(INCONSISTENT)
        reasons = tuple(tuple(r) for r in photo_reasons)
        if any(reasons):
            return EnrolmentResult(None, (), captures, reasons)
        template = build_template([c.embedding for c in captures], self.models.recogniser_id)
        return EnrolmentResult(template, (), captures, reasons)

    def health(self) -> dict:
        """For /health: where the models came from, their names and checksums."""
        return {
            "status": "ok",
            "source": self.models.source,
            "models": [
                {"file": m.file, "role": m.role, "sha256": m.sha256, "calibrated": m.calibrated}
                for m in self.models.info
            ],
            "liveness": bool(self.models.liveness),
        }
