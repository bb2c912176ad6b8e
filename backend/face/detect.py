"""Decode a capture and find the faces in it with SCRFD."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from insightface.model_zoo.scrfd import SCRFD

from backend.face.imagesize import ImageHeaderError, check_image_size

# A second face counts when it is at least this share of the main face's width: a person beside the
# supervised one does, a poster far behind them does not (news photos are full of those).
SECOND_FACE_MIN_RATIO = 0.5
# det_500m misses faces that fill the frame; when nothing is found the image is padded by this share
# of its size on each side and searched once more.
RETRY_PAD = 0.3


class ImageDecodeError(ValueError):
    """The bytes are not an image OpenCV can read."""


@dataclass(frozen=True, eq=False)
class DetectedFace:
    bbox: np.ndarray  # x1, y1, x2, y2 in image pixels
    kps: np.ndarray  # 5x2: eyes, nose tip, mouth corners; each pair left then right as seen in the image
    score: float

    @property
    def width(self) -> float:
        return float(self.bbox[2] - self.bbox[0])

    @property
    def height(self) -> float:
        return float(self.bbox[3] - self.bbox[1])


def decode_image(data: bytes) -> np.ndarray:
    """JPEG/PNG bytes to a BGR image, the layout insightface expects. The size the header claims is
    checked first: a few kilobytes can claim gigabytes of pixels."""
    try:
        check_image_size(data)
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except (ImageHeaderError, cv2.error) as exc:
        raise ImageDecodeError(str(exc)) from None
    if img is None:
        raise ImageDecodeError("not a readable image")
    return img


def detector_input_size(img: np.ndarray, sizes: tuple[int, ...]) -> tuple[int, int]:
    side = max(img.shape[:2])
    size = next((s for s in sizes if s >= side), sizes[-1])
    return size, size


def detect_faces(detector: SCRFD, img: np.ndarray, sizes: tuple[int, ...]) -> list[DetectedFace]:
    """All faces, most prominent first (large and central, as insightface ranks them)."""
    size = detector_input_size(img, sizes)
    dets, kpss = detector.detect(img, input_size=size)
    offset = 0
    if len(dets) == 0:
        offset = int(round(max(img.shape[:2]) * RETRY_PAD))
        padded = cv2.copyMakeBorder(img, offset, offset, offset, offset, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        dets, kpss = detector.detect(padded, input_size=detector_input_size(padded, sizes))
    faces = [
        DetectedFace(bbox=det[:4] - offset, kps=kps - offset, score=float(det[4]))
        for det, kps in zip(dets, kpss, strict=True)
    ]
    centre = np.array([img.shape[1], img.shape[0]]) / 2

    def prominence(face: DetectedFace) -> float:
        # insightface's own max_num ranking: area, less twice the squared distance from the centre.
        mid = (face.bbox[:2] + face.bbox[2:]) / 2
        return face.width * face.height - 2.0 * float(np.sum((mid - centre) ** 2))

    return sorted(faces, key=prominence, reverse=True)


def competing_faces(faces: list[DetectedFace]) -> list[DetectedFace]:
    """The faces besides the main one that are big enough to make the capture ambiguous."""
    if not faces:
        return []
    main = faces[0]
    return [f for f in faces[1:] if f.width >= SECOND_FACE_MIN_RATIO * main.width]
