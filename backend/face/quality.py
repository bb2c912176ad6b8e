"""Quality gate: is this face big, sharp, frontal and well lit enough to judge? Reasons the app can show."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from backend.face.detect import DetectedFace
from backend.i18n import translate


@dataclass(frozen=True)
class Reason:
    """What went wrong and what the person should do. The texts live in the message catalogues
    (backend/i18n, message id `reason.<code>`), in Chinese and English."""

    code: str  # stable, for the app and the attempt record
    params: tuple[tuple[str, object], ...] = ()  # the text's placeholders

    def text(self, language: str) -> str:
        return translate(f"reason.{self.code}", language, **dict(self.params))

    @property
    def message(self) -> str:
        """The English text, as attempt records and the officers' enrolment errors have always held."""
        return self.text("en")


NO_FACE = Reason("no_face")
MULTIPLE_FACES = Reason("multiple_faces")
TOO_SMALL = Reason("face_too_small")
BLURRED = Reason("blurred")
TURNED = Reason("face_turned")
TILTED = Reason("face_tilted")
TOO_DARK = Reason("too_dark")
TOO_BRIGHT = Reason("too_bright")
UNREADABLE = Reason("unreadable_image")


@dataclass(frozen=True)
class QualityLimits:
    """Where the gate draws its lines; the defaults come from the dev photos (docs/face.md, quality gate)."""

    min_face_px: float = 60.0  # face box width in the capture
    min_sharpness: float = 40.0  # see sharpness()
    max_yaw_deg: float = 45.0
    max_pitch_deg: float = 35.0
    min_brightness: float = 50.0  # mean grey level of the aligned face's centre, 0..255
    max_brightness: float = 215.0


@dataclass(frozen=True)
class QualityReport:
    face_px: float
    sharpness: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    brightness: float
    reasons: tuple[Reason, ...]


# Nose-tip depth in front of the eyes, and eye-to-mouth height, as shares of the eye distance: a generic
# head for turning landmark offsets into approximate angles.
_NOSE_DEPTH = 0.5
_EYE_TO_MOUTH = 1.15
# Where the nose sits between eye line and mouth line on a frontal face (insightface's ArcFace template).
_FRONTAL_NOSE = (71.7366 - 51.6) / (92.285 - 51.6)


def head_pose(kps: np.ndarray) -> tuple[float, float, float]:
    """Approximate (yaw, pitch, roll) in degrees from SCRFD's five landmarks; 0 is frontal."""
    left_eye, right_eye, nose, mouth_left, mouth_right = kps.astype(np.float64)
    eye_vec = right_eye - left_eye
    roll = math.atan2(eye_vec[1], eye_vec[0])
    eye_dist = float(np.hypot(*eye_vec)) or 1.0
    # Rotate into the eye line's frame so head roll does not pass for yaw or pitch.
    cos, sin = math.cos(-roll), math.sin(-roll)
    rot = np.array([[cos, -sin], [sin, cos]])
    eye_mid = (left_eye + right_eye) / 2
    nose_x, nose_y = rot @ (nose - eye_mid) / eye_dist
    mouth_y = (rot @ ((mouth_left + mouth_right) / 2 - eye_mid) / eye_dist)[1]
    yaw = math.degrees(math.atan(nose_x / _NOSE_DEPTH))
    nose_share = nose_y / mouth_y if mouth_y > 1e-6 else 0.0
    pitch = math.degrees(math.atan((_FRONTAL_NOSE - nose_share) * _EYE_TO_MOUTH / _NOSE_DEPTH))
    return yaw, pitch, math.degrees(roll)


def _centre(aligned_grey: np.ndarray) -> np.ndarray:
    # Cheeks, eyes, nose and mouth of the 112x112 ArcFace crop, without hair, background or black borders.
    return aligned_grey[28:100, 24:88]


def sharpness(aligned_grey: np.ndarray) -> float:
    """Variance of the Laplacian, rescaled to mid-grey so that a dark face is not also called blurred."""
    centre = _centre(aligned_grey)
    gain = 128.0 / max(float(centre.mean()), 1.0)
    return float(cv2.Laplacian(centre, cv2.CV_32F).var()) * gain * gain


def brightness(aligned_grey: np.ndarray) -> float:
    return float(_centre(aligned_grey).mean())


def assess(face: DetectedFace, aligned_bgr: np.ndarray, limits: QualityLimits) -> QualityReport:
    """Measure one detected face (and its aligned crop) against the limits."""
    grey = cv2.cvtColor(aligned_bgr, cv2.COLOR_BGR2GRAY)
    yaw, pitch, roll = head_pose(face.kps)
    report = {
        "face_px": face.width,
        "sharpness": sharpness(grey),
        "brightness": brightness(grey),
        "yaw_deg": yaw,
        "pitch_deg": pitch,
        "roll_deg": roll,
    }
    reasons = []
    if report["face_px"] < limits.min_face_px:
        reasons.append(TOO_SMALL)
    elif report["sharpness"] < limits.min_sharpness:
        # A small face upscaled to 112 px always looks soft: "move closer" is the advice that helps.
        reasons.append(BLURRED)
    if abs(yaw) > limits.max_yaw_deg:
        reasons.append(TURNED)
    if abs(pitch) > limits.max_pitch_deg:
        reasons.append(TILTED)
    if report["brightness"] < limits.min_brightness:
        reasons.append(TOO_DARK)
    elif report["brightness"] > limits.max_brightness:
        reasons.append(TOO_BRIGHT)
    return QualityReport(**report, reasons=tuple(reasons))
