"""The authenticated caller as the rest of the code sees it."""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.context import Actor


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    session_id: str
    agency_id: str | None
    region_code: str | None
    channel: str

    @property
    def actor(self) -> Actor:
        return Actor(id=self.user_id, role=self.role, agency_id=self.agency_id)
