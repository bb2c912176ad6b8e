"""Read models for the console board, the person detail and the phone app."""

from __future__ import annotations

from datetime import datetime

from backend.accounts import access
from backend.accounts.principal import Principal
from backend.accounts.tables import AccessGrant
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Forbidden, InvalidInput, NotFound
from backend.core.pagination import Page, check_limit, decode_uuid_cursor, page_of
from backend.db.json import loaded
from backend.notify.tables import Notification
from backend.supervision import local_days
from backend.supervision.rules import GREEN, RED, YELLOW
from backend.supervision.tables import (
    Alert,
    Checkin,
    CheckinWindow,
    Contest,
    FenceEvent,
    FenceZone,
    LedgerEntry,
    Measure,
    NoticeAck,
    Obligation,
    Task,
    Transfer,
    TravelRequest,
)


async def obligations(measure_id: object) -> list[Obligation]:
    return await Obligation.objects().where(Obligation.measure == measure_id).order_by(Obligation.id)


async def ledger_of(measure_id: object) -> list[LedgerEntry]:
    return await LedgerEntry.objects().where(LedgerEntry.measure == measure_id).order_by(LedgerEntry.id)


async def checkins_of(measure_id: object, limit: int = 200) -> list[Checkin]:
    return await (
        Checkin.objects()
        .where(Checkin.measure == measure_id)
        .order_by(Checkin.received_at, ascending=False)
        .limit(limit)
    )


async def windows_of(measure_id: object, include_past: bool = False) -> list[CheckinWindow]:
    query = CheckinWindow.objects().where(CheckinWindow.measure == measure_id)
    if not include_past:
        query = query.where((CheckinWindow.status == "open") & (CheckinWindow.grace_until > utcnow()))
    windows = await query.order_by(CheckinWindow.opens_at).limit(200)
    now = utcnow()
    for window in windows:  # derived for the answer only, never saved
        window.status = window_status(window.status, window.opens_at, window.closes_at, now)
    return windows


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


async def tasks_for(principal: Principal, status: str = "open") -> list[Task]:
    if not principal.agency_id:
        return []
    return (
        await Task.objects()
        .where((Task.agency == principal.agency_id) & (Task.status == status))
        .order_by(Task.created_at, ascending=False)
        .limit(200)
    )


async def alerts_for(principal: Principal) -> list[Alert]:
    if not principal.agency_id:
        return []
    return (
        await Alert.objects()
        .where(Alert.agency == principal.agency_id)
        .order_by(Alert.created_at, ascending=False)
        .limit(200)
    )


async def timeline(measure_id: object) -> list[dict]:
    """The whole history in one place, newest first: ledger, check-ins, fence events, the notice
    acknowledgement, zone changes, travel, contests and transfers."""
    items = [
        {
            "at": e.at,
            "kind": f"ledger.{e.event}",
            "summary": f"{e.points:+d} -> {e.score_after} ({e.reason})",
            "ref_id": str(e.id),
        }
        for e in await ledger_of(measure_id)
    ]
    items += [
        {
            "at": c.received_at,
            "kind": f"checkin.{c.outcome}",
            # A JSON list that piccolo hands back as text: joined as it came, it read letter by letter.
            "summary": ", ".join(loaded(c.reasons, [])) or c.outcome,
            "ref_id": str(c.id),
        }
        for c in await checkins_of(measure_id)
    ]
    items += [
        {
            "at": e.at,
            "kind": f"fence.{e.kind}",
            "summary": " ".join(p for p in (e.zone_id, e.severity, e.reason) if p) or e.kind,
            "ref_id": str(e.id),
        }
        for e in await FenceEvent.objects().where(FenceEvent.measure == measure_id)
    ]
    items += [
        {
            "at": a.acknowledged_at,
            "kind": "notice.acknowledged",
            "summary": f"notice {a.notice_version} ({a.language})",
            "ref_id": str(a.id),
        }
        for a in await NoticeAck.objects().where(NoticeAck.measure == measure_id)
    ]
    items += await _zone_changes(measure_id)
    for t in await TravelRequest.objects().where(TravelRequest.measure == measure_id):
        items.append(
            {
                "at": t.created_at,
                "kind": f"travel.{t.status}",
                "summary": f"{t.destination} {t.depart_on}..{t.return_on}",
                "ref_id": str(t.id),
            }
        )
    for c in await Contest.objects().where(Contest.measure == measure_id):
        items.append(
            {"at": c.created_at, "kind": f"contest.{c.status}", "summary": c.text[:200], "ref_id": str(c.id)}
        )
    for tr in await Transfer.objects().where(Transfer.measure == measure_id):
        items.append(
            {
                "at": tr.requested_at,
                "kind": f"transfer.{tr.status}",
                "summary": f"to stage {tr.to_stage}",
                "ref_id": str(tr.id),
            }
        )
    return sorted(items, key=lambda i: i["at"], reverse=True)


async def _zone_changes(measure_id: object) -> list[dict]:
    """One item per drawing the officer saved: its zones share one created_at (zones.set_zones)."""
    drawings: dict[object, list[FenceZone]] = {}
    for z in await FenceZone.objects().where(FenceZone.measure == measure_id).order_by(FenceZone.created_at):
        drawings.setdefault(z.created_at, []).append(z)
    items = []
    for at, zones in drawings.items():
        roles = [(loaded(z.feature, {}).get("properties") or {}).get("role", "zone") for z in zones]
        items.append(
            {
                "at": at,
                "kind": "zones.replaced",
                "summary": f"{len(zones)} zone(s): {', '.join(roles)}",
                "ref_id": str(zones[0].id),
            }
        )
    return items


async def inbox(principal: Principal, limit: int = 100) -> list[Notification]:
    return (
        await Notification.objects()
        .where((Notification.user == principal.user_id) & (Notification.channel == "inbox"))
        .order_by(Notification.created_at, ascending=False)
        .limit(limit)
    )


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


async def contests_of(measure_id: object) -> list[Contest]:
    return await Contest.objects().where(Contest.measure == measure_id).order_by(Contest.created_at)


async def travel_of(measure_id: object) -> list[TravelRequest]:
    return (
        await TravelRequest.objects()
        .where(TravelRequest.measure == measure_id)
        .order_by(TravelRequest.created_at)
    )
