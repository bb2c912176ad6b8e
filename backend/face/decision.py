"""From scores to a check-in outcome. The thresholds were chosen on the dev split: see docs/face.md."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.face.quality import Reason


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DOUBTFUL = "doubtful"  # a video verification decides
    REJECTED = "rejected"  # the face is not the enrolled person's
    REFUSED = "refused"  # the capture could not be judged (no face, bad light, ...): a retry, not a violation


# Texts: the message catalogues (backend/i18n, `reason.<code>`).
WEAK_MATCH = Reason("weak_match")
NO_MATCH = Reason("no_match")
LIVENESS_LOW = Reason("liveness_low")
LIVENESS_UNAVAILABLE = Reason("liveness_unavailable")


@dataclass(frozen=True)
class Thresholds:
    """Operating point, calibrated on dev by backend.face.calibrate (docs/face.md, "Thresholds").

    accept: cosine of the probe with the template's mean embedding at or above which a live face is
    accepted; reject: below it the face is rejected; in between, doubtful. liveness: fused MiniFASNet
    p(real) below which an otherwise accepted check-in is doubtful.
    """

    accept: float = 0.46
    reject: float = 0.31
    liveness: float = 0.32


def decide(
    similarity: float, liveness: float | None, thresholds: Thresholds
) -> tuple[Outcome, tuple[Reason, ...]]:
    if similarity < thresholds.reject:
        return Outcome.REJECTED, (NO_MATCH,)
    reasons = []
    if similarity < thresholds.accept:
        reasons.append(WEAK_MATCH)
    # Poor liveness alone never rejects: the models also doubt some real faces, and a call settles it.
    if liveness is None:
        reasons.append(LIVENESS_UNAVAILABLE)
    elif liveness < thresholds.liveness:
        reasons.append(LIVENESS_LOW)
    return (Outcome.DOUBTFUL if reasons else Outcome.ACCEPTED), tuple(reasons)
