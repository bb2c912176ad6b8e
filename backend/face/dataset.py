"""A labelled photo folder (<Identity>/<file>.jpg plus SPLITS.csv) turned into comparison trials.

Shared by calibrate (dev split) and evaluate (eval split), so both score photos the same way.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.face.engine import ENROL_MAX_PHOTOS, ENROL_MIN_PHOTOS, FaceEngine
from backend.face.models import MODEL_DIR_SETTING, load_fallback_pack, load_models
from backend.face.quality import QualityReport
from backend.face.template import build_template

SPLITS = ("dev", "eval")


@dataclass(frozen=True)
class Photo:
    identity: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, eq=False)
class Scored:
    photo: Photo
    embedding: np.ndarray | None  # None when no face was found
    liveness: float | None
    quality: QualityReport | None
    reasons: tuple[str, ...]  # the quality gate's reason codes; empty when it passes


@dataclass(frozen=True)
class Trial:
    score: float
    genuine: bool
    enrolled: str  # the identity whose template (or photo) is compared
    enrolled_photos: tuple[str, ...]
    probe: Photo
    probe_liveness: float | None


def load_split(faces_dir: Path, split: str) -> list[Photo]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    with (faces_dir / "SPLITS.csv").open(newline="") as stream:
        identities = sorted(row["identity"] for row in csv.DictReader(stream) if row["split"] == split)
    return [Photo(ident, path) for ident in identities for path in sorted((faces_dir / ident).glob("*.jpg"))]


def score_photos(engine: FaceEngine, photos: list[Photo], progress: bool = True) -> list[Scored]:
    scored = []
    for i, photo in enumerate(photos, 1):
        capture = engine.analyse(photo.path.read_bytes(), embed_anyway=True)
        liveness = capture.liveness.score if capture.liveness else None
        reasons = tuple(r.code for r in capture.reasons)
        scored.append(Scored(photo, capture.embedding, liveness, capture.quality, reasons))
        if progress and i % 50 == 0:
            print(f"  scored {i}/{len(photos)} photos", file=sys.stderr)
    return scored


def template_trials(scored: list[Scored]) -> list[Trial]:
    """The check-in protocol: templates of 3 to 5 photos, probed by every other photo of the split.

    Each identity with enough photos gets one template per photo: a window of 3, 4 or 5 consecutive
    photos (sizes in turn, wrapping), probed by that identity's other photos (genuine) and by every photo
    of the other identities, single-photo distractors included (impostor).
    """
    found = [s for s in scored if s.embedding is not None]
    by_identity: dict[str, list[Scored]] = defaultdict(list)
    for s in found:
        by_identity[s.photo.identity].append(s)
    sizes = range(ENROL_MIN_PHOTOS, ENROL_MAX_PHOTOS + 1)
    probes = np.stack([s.embedding for s in found])
    trials = []
    for identity, own in by_identity.items():
        if len(own) <= ENROL_MAX_PHOTOS:
            continue
        for j in range(len(own)):
            window = [own[(j + k) % len(own)] for k in range(sizes[j % len(sizes)])]
            template = build_template([s.embedding for s in window])
            names = tuple(s.photo.name for s in window)
            enrolled = {s.photo.path for s in window}
            scores = probes @ template.mean
            for s, score in zip(found, scores, strict=True):
                if s.photo.path in enrolled:
                    continue
                genuine = s.photo.identity == identity
                trials.append(Trial(float(score), genuine, identity, names, s.photo, s.liveness))
    return trials


def pair_trials(scored: list[Scored]) -> list[Trial]:
    """Every unordered pair of photos: the usual 1:1 protocol, comparable with the model README."""
    found = [s for s in scored if s.embedding is not None]
    matrix = np.stack([s.embedding for s in found])
    sims = matrix @ matrix.T
    trials = []
    for i, a in enumerate(found):
        for j in range(i + 1, len(found)):
            b = found[j]
            genuine = a.photo.identity == b.photo.identity
            trials.append(
                Trial(float(sims[i, j]), genuine, a.photo.identity, (a.photo.name,), b.photo, b.liveness)
            )
    return trials


def engine_for(model_dir: Path | None) -> FaceEngine:
    """The engine the service would build for this setting; raises ModelLoadError with the reason."""
    models = load_fallback_pack() if model_dir is None else load_models(model_dir)
    return FaceEngine(models)


def default_model_dir() -> Path | None:
    value = os.environ.get(MODEL_DIR_SETTING)
    return Path(value) if value else None
