"""What a check-in submission is, how its judgement adds up, and the record the phone gets back.

Plain data and pure checks: the service (checkins/services.py) fills them in, top to bottom."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.core.clock import as_utc
from backend.core.errors import InvalidInput
from backend.face.imagesize import ImageHeaderError, check_image_size

CLOCK_SKEW = timedelta(minutes=2)
ONLINE_MAX_AGE = timedelta(minutes=10)  # an online submission is captured just before it is sent
TECHNICAL_KINDS = ("camera_error", "no_gps_fix", "app_error")
SEVERITY = {"accepted": 0, "doubtful": 1, "rejected": 2, "technical_failure": 3}


@dataclass
class Submission:
    captured_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    fix_time: datetime | None = None
    mock_location: bool = False
    selfie: bytes | None = None
    technical_failure: str | None = None
    window_id: str | None = None
    offline: bool = False
    device_id: str | None = None
    signature: str | None = None

    def signed_payload(self, measure_id: str) -> dict:
        """What the device signs for an offline capture (canonical JSON of these fields)."""
        return {
            "measure_id": measure_id,
            "window_id": self.window_id,
            "captured_at": as_utc(self.captured_at).isoformat(),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "accuracy_m": self.accuracy_m,
            "fix_time": as_utc(self.fix_time).isoformat() if self.fix_time else None,
            "mock_location": self.mock_location,
            "selfie_sha256": hashlib.sha256(self.selfie).hexdigest() if self.selfie else None,
        }


@dataclass
class Judgement:
    outcome: str = "accepted"
    reasons: list[str] | None = None
    similarity: float | None = None
    liveness: float | None = None
    doubts: list[str] | None = None  # what made it doubtful (reasons also holds informational ones)

    def add(self, outcome: str, reason: str) -> None:
        self.reasons = [*(self.reasons or []), reason]
        if outcome == "doubtful":
            self.doubts = [*(self.doubts or []), reason]
        if SEVERITY[outcome] > SEVERITY[self.outcome]:
            self.outcome = outcome

    def note(self, *reasons: str) -> None:
        """Informational reasons: recorded, changing nothing."""
        self.reasons = [*(self.reasons or []), *reasons]

    def has(self, reason: str) -> bool:
        return reason in (self.reasons or [])


@dataclass
class CheckinRecord:
    """A recorded check-in as the controller answers it (the row itself: checkins/store.py)."""

    id: uuid.UUID
    measure: object
    window: object
    received_at: datetime
    captured_at: datetime
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    fix_time: datetime | None
    mock_location: bool
    offline: bool
    device: object
    outcome: str
    reasons: list[str]
    face_similarity: float | None
    face_liveness: float | None
    receipt: str


def require_image(selfie: bytes | None) -> None:
    """Refused before anything is recorded: a selfie must be a JPEG or PNG (by its header)."""
    if selfie is None:
        return
    try:
        check_image_size(selfie)
    except ImageHeaderError as exc:
        raise InvalidInput("selfie_jpeg_base64", f"is not a usable image: {exc}") from None


def judge_window(window: dict | None, sub: Submission, captured: datetime, now: datetime, judgement) -> None:
    """Whether the capture answers its window in time."""
    if window is None:
        judgement.add("rejected", "no_open_window")
        return
    # The opening has the close's slack: a phone a few seconds behind, or one that sends whole seconds,
    # captures "before" a window that opened the moment it was asked for.
    if not as_utc(window["opens_at"]) - CLOCK_SKEW <= captured <= as_utc(window["closes_at"]):
        judgement.add("rejected", "captured_outside_window")
    elif window["status"] != "open":
        judgement.add("rejected", f"window_already_{window['status']}")
    elif not sub.offline and now > as_utc(window["closes_at"]) + CLOCK_SKEW:
        judgement.add("rejected", "window_closed")
    elif sub.offline and now > as_utc(window["grace_until"]):
        judgement.add("rejected", "grace_period_over")


def judge_fix(sub: Submission, now: datetime, judgement: Judgement) -> bool:
    """The fix's own plausibility. False when there is no fix to judge against the fences."""
    if sub.technical_failure or sub.latitude is None or sub.longitude is None:
        judgement.add("technical_failure", "no_gps_fix")
        return False
    if sub.mock_location:
        judgement.add("doubtful", "mock_location")
    if sub.accuracy_m is None or sub.accuracy_m <= 0 or sub.accuracy_m > 5000:
        judgement.add("doubtful", "implausible_accuracy")
    if sub.fix_time and as_utc(sub.fix_time) > now + CLOCK_SKEW:
        judgement.add("doubtful", "fix_in_future")
    return True


def judge_face(verdict, judgement: Judgement) -> None:
    """The face verifier's verdict (backend.supervision.checkins.face_check.FaceVerdict, or None)."""
    if verdict is None:
        judgement.note("face_check_not_enabled")
        return
    judgement.similarity, judgement.liveness = verdict.similarity, verdict.liveness
    if verdict.outcome == "accepted":
        judgement.note(*verdict.reasons)  # informational only
        return
    for reason in verdict.reasons or [verdict.outcome]:
        judgement.add(verdict.outcome, reason)
