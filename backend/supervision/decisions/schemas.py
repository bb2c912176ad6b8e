"""Request and response bodies of officers' decisions and the person's requests (console and phone):
contests, travel, summonses, transfers, excuses and recorded violations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from backend.supervision.fences.schemas import (
    AreaCollectionIn,
    AreaFeatureIn,
    MultiPolygonIn,
    PolygonIn,
)
from backend.supervision.schemas import ShortText, Text
from backend.supervision.vocab import (
    ContestStatus,
    LaterStage,
    Stage,
    SummonsStatus,
    TransferStatus,
    TravelStatus,
)


class FileIn(msgspec.Struct, forbid_unknown_fields=True):
    name: ShortText
    content_base64: Annotated[str, Meta(max_length=700_000)]


class ContestIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    files: Annotated[list[FileIn], Meta(max_length=5)] = msgspec.field(default_factory=list)


class AttachmentOut(msgspec.Struct):
    name: str
    sha256: str
    size: int


class ContestOut(msgspec.Struct):
    id: UUID
    entry_id: int
    status: ContestStatus
    text: str
    attachments: list[AttachmentOut]
    decision_note: str


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    approve: bool
    note: Annotated[str, Meta(max_length=2000)] = ""


class ExcuseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class TravelIn(msgspec.Struct, forbid_unknown_fields=True):
    depart_on: date
    return_on: date
    destination: ShortText
    reason: Text
    # A Polygon or MultiPolygon, or a Feature (or a collection of one Feature) wrapping one.
    destination_area: PolygonIn | MultiPolygonIn | AreaFeatureIn | AreaCollectionIn | None = None


class TravelOut(msgspec.Struct):
    id: UUID
    depart_on: date
    return_on: date
    destination: str
    reason: str
    status: TravelStatus
    decision_note: str


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    to_agency_id: UUID
    to_stage: LaterStage
    note: Annotated[str, Meta(max_length=2000)] = ""


class TransferOut(msgspec.Struct):
    id: UUID
    measure_id: UUID
    from_agency_id: UUID
    to_agency_id: UUID
    to_stage: Stage
    status: TransferStatus
    note: str


class ViolationIn(msgspec.Struct, forbid_unknown_fields=True):
    # Not a Literal: a rule the system scores itself is refused by the rules (422 naming rule_id), not as
    # malformed input.
    rule_id: Annotated[
        str, Meta(description="missed_summons | unapproved_travel | unreported_address_change")
    ]
    reason: Text
    evidence_ref: Annotated[str, Meta(max_length=40)] | None = None


class SummonsIn(msgspec.Struct, forbid_unknown_fields=True):
    at: datetime
    place: ShortText
    purpose: Annotated[str, Meta(max_length=2000)] = ""


class SummonsOutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    attended: bool
    note: Annotated[str, Meta(max_length=2000)] = ""


class SummonsOut(msgspec.Struct):
    id: UUID
    measure_id: UUID
    at: datetime
    place: str
    purpose: str
    status: SummonsStatus
