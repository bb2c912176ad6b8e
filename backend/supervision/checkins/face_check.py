"""How the check-in asks for a face verdict. The face issue plugs its verifier in behind this interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class FaceVerdict:
    outcome: str  # accepted | doubtful | rejected | technical_failure
    similarity: float | None = None
    liveness: float | None = None
    reasons: list[str] = field(default_factory=list)


class FaceCheck(Protocol):
    async def verify(self, person_id: str, image: bytes) -> FaceVerdict | None:
        """None means no face verification is configured: judge on location and schedule alone."""


class NoFaceCheck:
    async def verify(self, person_id: str, image: bytes) -> FaceVerdict | None:
        return None
