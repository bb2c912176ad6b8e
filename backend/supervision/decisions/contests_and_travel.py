"""Excuses, contests, travel and devices: the person asks, an officer decides, the ledger records."""

from __future__ import annotations

from datetime import date

from backend import i18n
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.crypto import b64d
from backend.core.errors import Conflict, InvalidInput, NotFound
from backend.core.ids import parse_int_id
from backend.db.engine import write_tx
from backend.notify import services as notify
from backend.supervision.deadlines import local_days
from backend.supervision.decisions import store
from backend.supervision.decisions.tables import Contest, TravelRequest
from backend.supervision.fences.allowed_areas import bump_fences_version, validate_area
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import entries as ledger
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.services import my_measure, require_supervisor
from backend.supervision.measures.tables import Measure

MAX_TRAVEL_DAYS = 30


async def _entry_of(measure: Measure, entry_id: int) -> LedgerEntry:
    if parse_int_id(entry_id) is None:  # beyond the column's range: no such entry, not a database error
        raise NotFound("ledger entry")
    entry = (
        await LedgerEntry.objects()
        .where((LedgerEntry.id == entry_id) & (LedgerEntry.measure == measure.id))
        .first()
    )
    if entry is None:
        raise NotFound("ledger entry")
    return entry


async def excuse(principal: Principal, measure_id: str, entry_id: int, reason: str) -> LedgerEntry:
    measure = await require_supervisor(principal, measure_id)
    if not reason.strip():
        raise InvalidInput("reason", "an excuse needs a written reason")
    entry = await _entry_of(measure, entry_id)
    if entry.points >= 0:
        raise InvalidInput("entry_id", "only deductions can be excused")
    async with write_tx():
        booking = await ledger.reverse(
            measure, entry, principal.actor, "excused", f"Excused: {reason.strip()}", "excused"
        )
        await handling.follow_code_change(measure, booking, principal.actor)
    return booking.entry


# Contests ---------------------------------------------------------------------------------------------


async def contest(
    principal: Principal, entry_id: int, text: str, files: list[tuple[str, str]], storage
) -> Contest:
    measure = await my_measure(principal)
    entry = await _entry_of(measure, entry_id)
    if entry.points >= 0 or entry.status != "active":
        raise InvalidInput("entry_id", "only an active deduction can be contested")
    if not text.strip():
        raise InvalidInput("text", "explain why the entry is wrong")
    if await Contest.exists().where((Contest.entry == entry.id) & (Contest.status == "pending")):
        raise Conflict("This entry is already being contested")
    attachments = []
    for index, (name, content_b64) in enumerate(files):
        try:
            data = b64d(content_b64)
        except ValueError:
            raise InvalidInput(f"files[{index}].content_base64", "is not base64") from None
        attachments.append(await storage.put(data, name))
    async with write_tx():
        item = Contest(measure=measure.id, entry=entry.id, text=text.strip(), attachments=attachments)
        await item.save()
        await handling.open_task(
            measure,
            "contest",
            f"Contested entry #{entry.id}: {text.strip()[:200]}",
            ref_type="contest",
            ref_id=item.id,
        )
        await audit.record(
            principal.actor,
            "contest.filed",
            "measure",
            measure.id,
            {"contest": str(item.id), "entry": entry.id, "files": attachments},
            measure.executing_agency,
        )
    return item


async def decide_contest(principal: Principal, contest_id: str, uphold: bool, note: str) -> Contest:
    item = await Contest.objects().where(Contest.id == contest_id).first()
    if item is None:
        raise NotFound("contest")
    measure = await require_supervisor(principal, item.measure)
    if item.status != "pending":
        raise Conflict("This contest was already decided")
    if not note.strip():
        raise InvalidInput("note", "give the reason for the decision")
    async with write_tx():
        # Checked again under the row's lock: of two officers deciding at once, the second finds it decided.
        if await store.contest_status_locked(item.id) != "pending":
            raise Conflict("This contest was already decided")
        item.status, item.decided_by, item.decided_at, item.decision_note = (
            "upheld" if uphold else "rejected",
            principal.user_id,
            utcnow(),
            note.strip(),
        )
        await item.save()
        if uphold:
            entry = await _entry_of(measure, item.entry)
            booking = await ledger.reverse(
                measure, entry, principal.actor, "contest_upheld", f"Contest upheld: {note}", "overturned"
            )
            await handling.follow_code_change(measure, booking, principal.actor)
        await handling.close_tasks("contest", item.id, principal.user_id, item.status)
        await audit.record(
            principal.actor,
            f"contest.{item.status}",
            "measure",
            measure.id,
            {"contest": str(item.id), "note": note},
            measure.executing_agency,
        )
        title, body = await i18n.texts_for(measure.person, f"contest_decided.{item.status}", note=note)
        await notify.enqueue(
            measure.person,
            "contest_decided",
            title,
            body,
            f"contest:{item.id}:decided",
        )
    return item


# Travel -----------------------------------------------------------------------------------------------


async def request_travel(
    principal: Principal, depart_on: date, return_on: date, destination: str, area: dict | None, reason: str
) -> TravelRequest:
    measure = await my_measure(principal)
    if return_on < depart_on:
        raise InvalidInput("return_on", "must not be before depart_on")
    if depart_on < local_days.today_in(measure.timezone, utcnow()):  # "today" is the person's day
        raise InvalidInput("depart_on", "is in the past")
    if (return_on - depart_on).days + 1 > MAX_TRAVEL_DAYS:
        raise InvalidInput("return_on", f"a trip may last at most {MAX_TRAVEL_DAYS} days")
    if return_on > measure.end_date:
        raise InvalidInput("return_on", "is after the end of the measure")
    if not destination.strip() or not reason.strip():
        raise InvalidInput("destination" if not destination.strip() else "reason", "is required")
    if area is not None:
        validate_area(area, "destination_area")
    async with write_tx():
        trip = TravelRequest(
            measure=measure.id,
            depart_on=depart_on,
            return_on=return_on,
            destination=destination.strip(),
            destination_area=area if area is not None else "null",  # the area is optional
            reason=reason.strip(),
        )
        await trip.save()
        await handling.open_task(
            measure,
            "travel",
            f"Travel to {destination} {depart_on}..{return_on}",
            ref_type="travel",
            ref_id=trip.id,
        )
        await audit.record(
            principal.actor,
            "travel.requested",
            "measure",
            measure.id,
            {"trip": str(trip.id)},
            measure.executing_agency,
        )
    return trip


async def decide_travel(principal: Principal, trip_id: str, approve: bool, note: str) -> TravelRequest:
    trip = await TravelRequest.objects().where(TravelRequest.id == trip_id).first()
    if trip is None:
        raise NotFound("travel request")
    measure = await require_supervisor(principal, trip.measure)
    if trip.status != "pending":
        raise Conflict("This travel request was already decided")
    async with write_tx():
        if await store.trip_status_locked(trip.id) != "pending":  # again, under the row's lock
            raise Conflict("This travel request was already decided")
        trip.status = "approved" if approve else "denied"
        trip.decided_by, trip.decided_at, trip.decision_note = principal.user_id, utcnow(), note.strip()
        await trip.save()
        if approve:
            await bump_fences_version(measure.id)
        await handling.close_tasks("travel", trip.id, principal.user_id, trip.status)
        await audit.record(
            principal.actor,
            f"travel.{trip.status}",
            "measure",
            measure.id,
            {"trip": str(trip.id), "note": note},
            measure.executing_agency,
        )
        title, body = await i18n.texts_for(
            measure.person,
            f"travel_decided.{trip.status}",
            destination=trip.destination,
            depart_on=trip.depart_on,
            return_on=trip.return_on,
            note=note,
        )
        await notify.enqueue(
            measure.person,
            "travel_decided",
            title,
            body.strip(),
            f"travel:{trip.id}:decided",
        )
    return trip


# Devices ----------------------------------------------------------------------------------------------


# Violations an officer records ------------------------------------------------------------------------

OFFICER_RULES = ("missed_summons", "unapproved_travel", "unreported_address_change")


async def record_violation(
    principal: Principal, measure_id: str, rule_id: str, reason: str, evidence: str | None
) -> LedgerEntry:
    """Violations the system cannot see by itself (a missed summons, say) are recorded by an officer."""
    measure = await require_supervisor(principal, measure_id)
    if rule_id not in OFFICER_RULES:
        raise InvalidInput("rule_id", f"must be one of {', '.join(OFFICER_RULES)}")
    if not reason.strip():
        raise InvalidInput("reason", "describe what happened")
    async with write_tx():
        booking = await ledger.apply(
            measure,
            rule_id,
            principal.actor,
            reason.strip(),
            rule_id=rule_id,
            evidence=("note", evidence[:40]) if evidence else None,
        )
        await handling.follow_code_change(measure, booking, principal.actor)
    return booking.entry
