"""How the check-in asks for a face verdict. The face issue plugs its verifier in behind this interface.

`verify` runs before the check-in's transaction (slow CPU work must not hold SQLite's write lock);
`record` writes the attempt it made inside that transaction, with the check-in it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class FaceVerdict:
    outcome: str  # accepted | doubtful | rejected | technical_failure
    similarity: float | None = None
    liveness: float | None = None
    reasons: list[str] = field(default_factory=list)
    attempt: Any = None  # the comparison's record, when a comparison ran: written by `record`


class FaceCheck(Protocol):
    async def verify(self, person_id: str, image: bytes) -> FaceVerdict | None:
        """None means no face verification is configured: judge on location and schedule alone."""

    async def record(self, verdict: FaceVerdict | None) -> None:
        """Inside the check-in's transaction: the attempt `verify` made, if it made one."""


class NoFaceCheck:
    async def verify(self, person_id: str, image: bytes) -> FaceVerdict | None:
        return None

    async def record(self, verdict: FaceVerdict | None) -> None:
        return None
