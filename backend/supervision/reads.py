"""Read models for the console board, the person detail and the phone app."""

from __future__ import annotations

from datetime import datetime

from backend.accounts import access
from backend.accounts.principal import Principal
from backend.accounts.tables import AccessGrant
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Forbidden, InvalidInput, NotFound
from backend.core.pagination import Page, check_limit, decode_uuid_cursor, page_of
from backend.notify.tables import Notification
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.deadlines import local_days
from backend.supervision.ledger.scoring_rules import GREEN, RED, YELLOW
from backend.supervision.measures.tables import Measure, Obligation


async def obligations(measure_id: object) -> list[Obligation]:
    return await Obligation.objects().where(Obligation.measure == measure_id).order_by(Obligation.id)


def window_status(stored: str, opens_at: datetime, closes_at: datetime, now: datetime) -> str:
    """An 'open' row is upcoming before it opens and closed once it has closed (late offline captures may
    still come in until grace_until); done, missed and excused are final."""
    if stored != "open":
        return stored
    if now < as_utc(opens_at):
        return "upcoming"
    return "open" if now <= as_utc(closes_at) else "closed"


async def board(
    principal: Principal,
    code: str | None,
    agency_id: str | None,
    due_within_days: int | None,
    cursor,
    limit: int,
) -> Page[dict]:
    if principal.role in ("citizen", "supervisee"):
        raise Forbidden("Staff only")
    query = (
        Measure.select(
            Measure.id,
            Measure.person,
            Measure.person.display_name,
            Measure.kind,
            Measure.stage,
            Measure.code,
            Measure.score,
            Measure.end_date,
            Measure.executing_agency,
        )
        .where(Measure.status == "active")
        .order_by(Measure.id)
        .limit(check_limit(limit) + 1)
    )
    agencies = await access.visible_agency_ids(principal)
    granted = (
        [
            g["object_id"]
            for g in await AccessGrant.select(AccessGrant.object_id).where(
                (AccessGrant.object_type == "measure") & (AccessGrant.agency == principal.agency_id)
            )
        ]
        if principal.agency_id
        else []
    )
    if agencies is not None:
        if not agencies and not granted:
            return Page([], None)
        visible = Measure.executing_agency.is_in(sorted(agencies) or ["00000000-0000-0000-0000-000000000000"])
        query = query.where(visible | Measure.id.is_in(granted) if granted else visible)
    if code is not None:
        if code not in (GREEN, YELLOW, RED):
            raise InvalidInput("code", "must be green, yellow or red")
        query = query.where(Measure.code == code)
    if agency_id is not None:
        query = query.where(Measure.executing_agency == agency_id)
    if due_within_days is not None:
        query = query.where(
            local_days.ends_within(Measure.end_date, Measure.timezone, due_within_days, utcnow())
        )
    after = decode_uuid_cursor(cursor)
    if after is not None:
        query = query.where(Measure.id > after)
    rows = await query
    page = page_of(rows, limit, lambda r: str(r["id"]))
    if page.items:
        upcoming = (
            await CheckinWindow.select(CheckinWindow.measure, CheckinWindow.opens_at)
            .where(
                CheckinWindow.measure.is_in([r["id"] for r in page.items])
                & (CheckinWindow.status == "open")
                & (CheckinWindow.closes_at > utcnow())
            )
            .order_by(CheckinWindow.opens_at)
        )
        first = {}
        for w in upcoming:
            first.setdefault(str(w["measure"]), w["opens_at"])
        for row in page.items:
            row["next_window_at"] = first.get(str(row["id"]))
    return page


async def mark_read(principal: Principal, notification_id: str) -> None:
    note = (
        await Notification.objects()
        .where(
            (Notification.id == notification_id)
            & (Notification.user == principal.user_id)
            & (Notification.channel == "inbox")
        )
        .first()
    )
    if note is None:
        raise NotFound("message")
    if note.read_at is None:
        await Notification.update({Notification.read_at: utcnow()}).where(Notification.id == note.id)
