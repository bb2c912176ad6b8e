"""Request and response bodies of the agency-wide console: scoring rules, thresholds, privacy, the
handling plan and the deadline board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from backend.supervision.vocab import Code, MeasureKind, Stage


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    points: Annotated[int, Meta(ge=-100, le=100)]


class ThresholdsIn(msgspec.Struct, forbid_unknown_fields=True):
    green_min: Annotated[int, Meta(ge=1, le=100)]
    yellow_min: Annotated[int, Meta(ge=0, le=99)]


class PrivacyIn(msgspec.Struct, forbid_unknown_fields=True):
    keep_face_images: bool


ExtraWindows = Annotated[int, Meta(ge=0, le=3, description="extra check-in windows per planned one")]


class HandlingPlanIn(msgspec.Struct, forbid_unknown_fields=True):
    """Only the settings sent change (null or absent: unchanged). A red code always raises a live alert and
    a measure review."""

    yellow_extra_windows: ExtraWindows | None = None
    red_extra_windows: ExtraWindows | None = None
    yellow_review_task: bool | None = None
    red_sms_officers: bool | None = None
    red_video_verification: bool | None = None


class HandlingPlanOut(msgspec.Struct):
    yellow_extra_windows: int
    red_extra_windows: int
    yellow_review_task: bool
    red_sms_officers: bool
    red_video_verification: bool


class RuleOut(msgspec.Struct):
    rule_id: str
    points: int
    version: int


class PrivacyOut(msgspec.Struct):
    keep_face_images: bool


class ThresholdsOut(msgspec.Struct):
    green_min: int
    yellow_min: int


class DeadlineRow(msgspec.Struct):
    measure_id: UUID
    person_id: UUID
    person_name: str
    kind: MeasureKind
    stage: Stage
    executing_agency_id: UUID
    end_date: date
    days_left: int
    code: Code
    score: int
    last_activity_at: datetime


class DeadlineBoard(msgspec.Struct):
    ending_within_1_day: list[DeadlineRow]
    ending_within_7_days: list[DeadlineRow]
    ending_within_30_days: list[DeadlineRow]
    overdue: list[DeadlineRow]
    inactive: list[DeadlineRow]
