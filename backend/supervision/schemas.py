"""Request and response bodies for supervision (console and phone)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from backend.core.text import SINGLE_LINE
from backend.supervision.vocab import (
    Code,
    EntryStatus,
    MeasureKind,
    MeasureStatus,
    ObligationCode,
    PlanKind,
    Stage,
    TaskStatus,
)

Text = Annotated[str, Meta(min_length=1, max_length=2000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]  # names, places


class CheckinPlanIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: PlanKind
    times: Annotated[list[str], Meta(min_length=1, max_length=6, description="HH:MM, local time")]
    weekdays: list[Annotated[int, Meta(ge=0, le=6)]] = msgspec.field(default_factory=lambda: list(range(7)))
    window_minutes: Annotated[int, Meta(ge=5, le=720)] = 60


class ObligationIn(msgspec.Struct, forbid_unknown_fields=True):
    code: ObligationCode
    place: str | None = None
    person: str | None = None
    activity: str | None = None
    documents: str | None = None


class MeasureIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: UUID
    kind: MeasureKind
    legal_basis: Text
    deciding_agency_id: UUID
    start_date: date
    end_date: date
    checkin_plan: CheckinPlanIn
    timezone: Annotated[str, Meta(max_length=64)] = "Asia/Shanghai"
    grace_minutes: Annotated[int, Meta(ge=0, le=1440)] = 120
    obligations: Annotated[list[ObligationIn], Meta(max_length=20)] = msgspec.field(default_factory=list)


class CheckinPlanOut(msgspec.Struct):
    kind: PlanKind
    times: list[str]
    weekdays: list[int]
    window_minutes: int


class ObligationOut(msgspec.Struct):
    code: str
    statutory: bool
    text_en: str
    text_zh: str


class MeasureOut(msgspec.Struct):
    id: UUID
    person_id: UUID
    kind: MeasureKind
    legal_basis: str
    stage: Stage
    deciding_agency_id: UUID
    executing_agency_id: UUID
    start_date: date
    end_date: date
    timezone: str
    status: MeasureStatus
    score: int
    code: Code
    notice_acknowledged: bool
    checkin_plan: CheckinPlanOut
    grace_minutes: int
    obligations: list[ObligationOut]


class LedgerEntryOut(msgspec.Struct):
    id: int
    at: datetime
    event: str
    points: int
    rule_id: str | None
    rule_version: int | None
    reason: str
    decided_by: str
    evidence_type: str | None
    evidence_id: str | None
    score_after: int
    code_after: Code
    status: EntryStatus
    reverses: int | None
    # What the entry means, in the reader's language (the rule's name); `reason` is the detail as recorded.
    reason_text: str = ""


class NoticeOut(msgspec.Struct):
    version: str
    language: str
    text: str
    text_sha256: str
    acknowledged: bool


class NoticeAckIn(msgspec.Struct, forbid_unknown_fields=True):
    version: ShortText
    language: ShortText
    text_sha256: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
    device_id: ShortText


class DeviceIn(msgspec.Struct, forbid_unknown_fields=True):
    public_key: Annotated[str, Meta(min_length=40, max_length=64)]
    label: Annotated[str, Meta(max_length=100)] = ""


class DeviceOut(msgspec.Struct):
    id: UUID
    enrolled_at: datetime


class TaskOut(msgspec.Struct):
    id: UUID
    measure_id: UUID
    kind: str
    status: TaskStatus
    urgent: bool
    summary: str
    ref_type: str | None
    ref_id: str | None
    created_at: datetime


class AlertOut(msgspec.Struct):
    id: UUID
    measure_id: UUID
    level: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None


class BoardRow(msgspec.Struct):
    measure_id: UUID
    person_id: UUID
    person_name: str
    kind: MeasureKind
    stage: Stage
    code: Code
    score: int
    end_date: date
    executing_agency_id: UUID
    next_window_at: datetime | None


class BoardPage(msgspec.Struct):
    items: list[BoardRow]
    next_cursor: str | None


class InboxItem(msgspec.Struct):
    id: UUID
    kind: str
    title: str
    body: str
    urgent: bool
    created_at: datetime
    read: bool


class TimelineItem(msgspec.Struct):
    at: datetime
    kind: str
    summary: str
    ref_id: str


class EnrolmentIn(msgspec.Struct, forbid_unknown_fields=True):
    photos_jpeg_base64: Annotated[
        list[Annotated[str, Meta(max_length=2_800_000)]], Meta(min_length=3, max_length=5)
    ]


class EnrolmentOut(msgspec.Struct):
    person_id: UUID
    enrolled_at: datetime
    model: str


class EndMeasureIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class NoticeAckOut(msgspec.Struct):
    acknowledged_at: datetime
    version: str
