"""Summonses: an officer calls the person in; the app and SMS remind them; a missed one costs points."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend import i18n
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Conflict, InvalidInput, NotFound
from backend.db.engine import write_tx
from backend.notify import services as notify
from backend.supervision.decisions.tables import Summons
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import entries as ledger
from backend.supervision.measures.services import note_activity, require_supervisor

REMINDERS = ((timedelta(hours=24), "24h", False), (timedelta(hours=1), "1h", True))


async def summon(principal: Principal, measure_id: str, at: datetime, place: str, purpose: str) -> Summons:
    measure = await require_supervisor(principal, measure_id)
    at = as_utc(at)
    if at <= utcnow() + timedelta(minutes=30):
        raise InvalidInput("at", "must be at least 30 minutes from now")
    if not place.strip():
        raise InvalidInput("place", "say where to appear")
    async with write_tx():
        item = Summons(
            measure=measure.id,
            at=at,
            place=place.strip(),
            purpose=purpose.strip(),
            created_by=principal.user_id,
        )
        await item.save()
        title, body = await i18n.texts_for(
            measure.person,
            "summons.issued",
            place=place.strip(),
            time=i18n.local_datetime(at, measure.timezone),
            purpose=purpose,
        )
        await notify.enqueue(
            measure.person,
            "summons",
            title,
            body.strip(),
            f"summons:{item.id}:issued",
            urgent=True,
        )
        await audit.record(
            principal.actor,
            "summons.issued",
            "measure",
            measure.id,
            {"summons": str(item.id), "at": at.isoformat(), "place": place},
            measure.executing_agency,
        )
    return item


async def record_outcome(principal: Principal, summons_id: str, attended: bool, note: str) -> Summons:
    item = await Summons.objects().where(Summons.id == summons_id).first()
    if item is None:
        raise NotFound("summons")
    measure = await require_supervisor(principal, item.measure)
    if item.status != "scheduled":
        raise Conflict(f"This summons is already {item.status}")
    if not attended and as_utc(item.at) > utcnow():
        raise InvalidInput("attended", "a summons cannot be missed before its time")
    async with write_tx():
        item.status, item.decided_by, item.note = (
            ("attended" if attended else "missed"),
            principal.user_id,
            note,
        )
        await item.save([Summons.status, Summons.decided_by, Summons.note])
        await audit.record(
            principal.actor,
            f"summons.{item.status}",
            "measure",
            measure.id,
            {"summons": str(item.id), "note": note},
            measure.executing_agency,
        )
        if attended:
            await note_activity(measure, utcnow())
        else:
            booking = await ledger.apply(
                measure,
                "missed_summons",
                principal.actor,
                f"Did not appear at {item.place} on {i18n.local_datetime(item.at, measure.timezone)}",
                rule_id="missed_summons",
                evidence=("summons", item.id),
            )
            await handling.follow_code_change(measure, booking, principal.actor)
    return item


async def for_measure(measure_id: object) -> list[Summons]:
    return await Summons.objects().where(Summons.measure == measure_id).order_by(Summons.at)


async def remind(now: datetime | None = None) -> int:
    """24 h and 1 h before each summons; dedupe keys keep a re-run or a restarted scheduler silent."""
    now = now or utcnow()
    queued = 0
    upcoming = await Summons.select(
        Summons.id, Summons.at, Summons.place, Summons.measure.person, Summons.measure.timezone
    ).where((Summons.status == "scheduled") & (Summons.at > now) & (Summons.at <= now + REMINDERS[0][0]))
    for s in upcoming:
        for ahead, label, urgent in REMINDERS:
            if as_utc(s["at"]) - now <= ahead:
                title, body = await i18n.texts_for(
                    s["measure.person"],
                    "summons.reminder",
                    place=s["place"],
                    time=i18n.local_datetime(s["at"], s["measure.timezone"]),
                )
                queued += await notify.enqueue(
                    s["measure.person"],
                    "summons_reminder",
                    title,
                    body,
                    f"summons:{s['id']}:{label}",
                    urgent=urgent,
                )
    return queued
