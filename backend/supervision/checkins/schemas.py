"""Request and response bodies of check-ins (console and phone): windows, a check-in and its receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from backend.supervision.fences.schemas import FixIn
from backend.supervision.vocab import Outcome, TechnicalFailure, WindowKind, WindowStatus


class WindowOut(msgspec.Struct):
    id: UUID
    kind: WindowKind
    opens_at: datetime
    closes_at: datetime
    grace_until: datetime
    # Derived when read: upcoming before opens_at, open until closes_at, closed after (offline captures
    # still count until grace_until); done, missed and excused are final.
    status: WindowStatus


class CheckinIn(msgspec.Struct, forbid_unknown_fields=True):
    captured_at: datetime
    location: FixIn | None = None  # the same fix as an upload's (docs/supervision.md, 'A fix')
    selfie_jpeg_base64: Annotated[str, Meta(max_length=1_400_000)] | None = None
    technical_failure: TechnicalFailure | None = None
    window_id: UUID | None = None
    offline: bool = False
    device_id: UUID | None = None
    signature: Annotated[str, Meta(max_length=200)] | None = None


class CheckinOut(msgspec.Struct):
    id: UUID
    outcome: Outcome
    reasons: list[str]
    window_id: UUID | None
    captured_at: datetime
    received_at: datetime
    offline: bool
    receipt: str
    # What each reason means, for the person, in their language (stored, else Accept-Language, else zh);
    # `reasons` keeps the machine-readable codes.
    reason_texts: list[str] = []


class RandomCheckinIn(msgspec.Struct, forbid_unknown_fields=True):
    minutes: Annotated[int, Meta(ge=5, le=120)] = 15
