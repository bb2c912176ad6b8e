"""Errors the library raises for bad zone or fix input; an API layer turns them into a 422."""

from __future__ import annotations


class ZoneError(ValueError):
    """A zone definition is refused; `path` names the offending field, `reason` says what is wrong."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


class GeometryError(ZoneError):
    """The geometry of a zone is invalid (unclosed or self-intersecting ring, out-of-range coordinates...)."""


class FixBatchError(ValueError):
    """A batch of fixes is malformed as a whole (mismatched column lengths, missing timestamps).

    Implausible *values* in well-formed batches are never raised: they are flagged for review.
    """
