"""Passive liveness with Silent-Face-Anti-Spoofing's two MiniFASNets, fused as upstream does."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from backend.face.models import LivenessModel

INPUT_SIZE = 80
REAL_CLASS = 1  # logits are (print/replay, real, other spoof)


@dataclass(frozen=True)
class LivenessScore:
    score: float  # fused probability that the face is real, 0..1
    per_model: dict[str, float]


def crop_box(bbox: np.ndarray, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Upstream's CropImage._get_new_box: the face box scaled about its centre, shifted to stay inside."""
    x, y = float(bbox[0]), float(bbox[1])
    box_w, box_h = float(bbox[2] - bbox[0]), float(bbox[3] - bbox[1])
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = x + box_w / 2, y + box_h / 2
    left, top = cx - new_w / 2, cy - new_h / 2
    right, bottom = cx + new_w / 2, cy + new_h / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > width - 1:
        left -= right - width + 1
        right = width - 1
    if bottom > height - 1:
        top -= bottom - height + 1
        bottom = height - 1
    return int(left), int(top), int(right), int(bottom)


def liveness_input(img: np.ndarray, bbox: np.ndarray, scale: float) -> np.ndarray:
    """1x3x80x80 float32, BGR 0..255 without normalisation, as the models were trained."""
    left, top, right, bottom = crop_box(bbox, scale, img.shape[1], img.shape[0])
    crop = cv2.resize(img[top : bottom + 1, left : right + 1], (INPUT_SIZE, INPUT_SIZE))
    return np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def score_liveness(models: tuple[LivenessModel, ...], img: np.ndarray, bbox: np.ndarray) -> LivenessScore:
    per_model = {}
    for model in models:
        logits = model.session.run(None, {model.input_name: liveness_input(img, bbox, model.scale)})[0][0]
        per_model[model.name] = float(_softmax(logits)[REAL_CLASS])
    # Upstream sums the two softmax outputs; the mean keeps it a probability.
    return LivenessScore(float(np.mean(list(per_model.values()))), per_model)
