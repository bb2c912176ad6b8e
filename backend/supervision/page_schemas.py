"""Pages of the lists: every list is `{items, next_cursor}`; next_cursor is null on the last page."""

from __future__ import annotations

import msgspec

from backend.supervision.checkins.schemas import CheckinOut, WindowOut
from backend.supervision.decisions.schemas import ContestOut, SummonsOut, TransferOut, TravelOut
from backend.supervision.schemas import (
    AlertOut,
    InboxItem,
    LedgerEntryOut,
    TaskOut,
    TimelineItem,
)


class LedgerPage(msgspec.Struct):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class CheckinPage(msgspec.Struct):
    items: list[CheckinOut]
    next_cursor: str | None


class WindowPage(msgspec.Struct):
    items: list[WindowOut]
    next_cursor: str | None


class TimelinePage(msgspec.Struct):
    items: list[TimelineItem]
    next_cursor: str | None


class ContestPage(msgspec.Struct):
    items: list[ContestOut]
    next_cursor: str | None


class TravelPage(msgspec.Struct):
    items: list[TravelOut]
    next_cursor: str | None


class SummonsPage(msgspec.Struct):
    items: list[SummonsOut]
    next_cursor: str | None


class TaskPage(msgspec.Struct):
    items: list[TaskOut]
    next_cursor: str | None


class AlertPage(msgspec.Struct):
    items: list[AlertOut]
    next_cursor: str | None


class TransferPage(msgspec.Struct):
    items: list[TransferOut]
    next_cursor: str | None


class InboxPage(msgspec.Struct):
    items: list[InboxItem]
    next_cursor: str | None
