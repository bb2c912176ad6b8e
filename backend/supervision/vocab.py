"""The closed vocabularies of supervision, as Literal types: the OpenAPI document lists their values."""

from __future__ import annotations

from typing import Literal

MeasureKind = Literal["bail", "residential_surveillance", "community_correction"]
Stage = Literal["investigation", "prosecution", "trial", "execution", "correction"]
LaterStage = Literal["prosecution", "trial", "execution", "correction"]
MeasureStatus = Literal["active", "ended"]
Code = Literal["green", "yellow", "red"]
PlanKind = Literal["daily", "weekly"]
WindowKind = Literal["scheduled", "random"]
WindowStatus = Literal["upcoming", "open", "closed", "done", "missed", "excused"]
Outcome = Literal["accepted", "doubtful", "rejected", "technical_failure"]
TechnicalFailure = Literal["camera_error", "no_gps_fix", "app_error"]
EntryStatus = Literal["active", "excused", "overturned"]
ContestStatus = Literal["pending", "upheld", "rejected"]
TravelStatus = Literal["pending", "approved", "denied"]
TransferStatus = Literal["pending", "accepted", "declined"]
TaskStatus = Literal["open", "done"]
SummonsStatus = Literal["scheduled", "attended", "missed", "cancelled"]
ObligationCode = Literal["forbidden_place", "no_contact", "no_activity", "surrender_documents"]
