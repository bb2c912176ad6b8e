"""The paged lists of a measure, an agency and a person: keyset pages in a stable order, never OFFSET.

Ids are UUIDv7 (time-ordered) or a sequence, so a list in creation order pages on its id alone; a list in
another order (windows by opening time, summonses by their date) pages on (that time, id)."""

from __future__ import annotations

import uuid
from datetime import datetime

from backend.accounts.principal import Principal
from backend.core.clock import utcnow
from backend.core.pagination import Page, keyset
from backend.notify.tables import Notification
from backend.supervision.checkins.tables import Checkin, CheckinWindow
from backend.supervision.decisions.tables import Contest, Summons, Transfer, TravelRequest
from backend.supervision.handling.tables import Alert, Task
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.reads import window_status

ID = (uuid.UUID,)
AT_ID = (datetime.fromisoformat, uuid.UUID)


async def ledger(measure_id: object, cursor: str | None, limit: int) -> Page[LedgerEntry]:
    """Every score change, oldest first."""
    query = LedgerEntry.objects().where(LedgerEntry.measure == measure_id)
    return await keyset(query, (LedgerEntry.id,), (int,), cursor, limit, newest_first=False)


async def checkins(measure_id: object, cursor: str | None, limit: int) -> Page[Checkin]:
    """Newest first (the id is taken when the check-in is received)."""
    query = Checkin.objects().where(Checkin.measure == measure_id)
    return await keyset(query, (Checkin.id,), ID, cursor, limit, newest_first=True)


async def windows(measure_id: object, cursor: str | None, limit: int, include_past: bool) -> Page:
    """By opening time; without the past, only windows still open or coming."""
    query = CheckinWindow.objects().where(CheckinWindow.measure == measure_id)
    if not include_past:
        query = query.where((CheckinWindow.status == "open") & (CheckinWindow.grace_until > utcnow()))
    columns = (CheckinWindow.opens_at, CheckinWindow.id)
    page = await keyset(query, columns, AT_ID, cursor, limit, newest_first=False)
    now = utcnow()
    for window in page.items:  # derived for the answer only, never saved
        window.status = window_status(window.status, window.opens_at, window.closes_at, now)
    return page


async def contests(measure_id: object, cursor: str | None, limit: int) -> Page[Contest]:
    query = Contest.objects().where(Contest.measure == measure_id)
    return await keyset(query, (Contest.id,), ID, cursor, limit, newest_first=False)


async def travel(measure_id: object, cursor: str | None, limit: int) -> Page[TravelRequest]:
    query = TravelRequest.objects().where(TravelRequest.measure == measure_id)
    return await keyset(query, (TravelRequest.id,), ID, cursor, limit, newest_first=False)


async def summonses(measure_id: object, cursor: str | None, limit: int) -> Page[Summons]:
    """By the date the person is to appear."""
    query = Summons.objects().where(Summons.measure == measure_id)
    return await keyset(query, (Summons.at, Summons.id), AT_ID, cursor, limit, newest_first=False)


async def tasks(principal: Principal, status: str, cursor: str | None, limit: int) -> Page[Task]:
    """The caller's agency's tasks of one status, newest first."""
    if not principal.agency_id:
        return Page([], None)
    query = Task.objects().where((Task.agency == principal.agency_id) & (Task.status == status))
    return await keyset(query, (Task.id,), ID, cursor, limit, newest_first=True)


async def alerts(principal: Principal, cursor: str | None, limit: int) -> Page[Alert]:
    """The caller's agency's alerts, newest first."""
    if not principal.agency_id:
        return Page([], None)
    query = Alert.objects().where(Alert.agency == principal.agency_id)
    return await keyset(query, (Alert.id,), ID, cursor, limit, newest_first=True)


async def incoming_transfers(principal: Principal, cursor: str | None, limit: int) -> Page[Transfer]:
    """Records waiting for the caller's agency to accept them, oldest request first."""
    if not principal.agency_id:
        return Page([], None)
    query = Transfer.objects().where(
        (Transfer.to_agency == principal.agency_id) & (Transfer.status == "pending")
    )
    return await keyset(query, (Transfer.id,), ID, cursor, limit, newest_first=False)


async def inbox(principal: Principal, cursor: str | None, limit: int) -> Page[Notification]:
    """Messages to the person, newest first."""
    query = Notification.objects().where(
        (Notification.user == principal.user_id) & (Notification.channel == "inbox")
    )
    return await keyset(query, (Notification.id,), ID, cursor, limit, newest_first=True)
