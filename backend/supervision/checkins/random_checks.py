"""Random checks: an officer (or the rule for yellow and red codes, jobs.py) opens an unannounced window."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend import i18n
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.db.engine import write_tx
from backend.notify import services as notify
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.measures.tables import Measure


async def open_random_window(
    measure: Measure, actor, minutes: int, now: datetime | None = None
) -> CheckinWindow:
    if not 5 <= minutes <= 120:
        raise InvalidInput("minutes", "must be 5-120")
    now = now or utcnow()
    async with write_tx():
        window = CheckinWindow(
            measure=measure.id,
            kind="random",
            opens_at=now,
            closes_at=now + timedelta(minutes=minutes),
            grace_until=now + timedelta(minutes=minutes),
            created_by=actor.id,
        )
        await window.save()
        title, body = await i18n.texts_for(measure.person, "random_checkin", minutes=minutes)
        await notify.enqueue(
            measure.person,
            "random_checkin",
            title,
            body,
            f"window:{window.id}",
            urgent=True,
        )
        await audit.record(
            actor,
            "checkin.random_opened",
            "measure",
            measure.id,
            {"window": str(window.id)},
            measure.executing_agency,
        )
    return window
