"""Differentiated handling: what a change of code sets in motion, per the agency's handling plan
(backend.supervision.handling.plans; the defaults below).

green: normal rhythm. yellow: denser check-ins (the window planner reads the code) and a review task.
red: an immediate alert (live to consoles, SMS to the agency's officers), a video-verification request and a
"review the measure" task; the live alert and the review task cannot be switched off.
Everything happens inside the caller's transaction; the live push after commit.
"""

from __future__ import annotations

from backend import i18n
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import Actor
from backend.core.ids import uuid7
from backend.db import sql
from backend.db.engine import after_commit
from backend.notify import services as notify
from backend.supervision.handling import plans as handling_plans
from backend.supervision.handling import store
from backend.supervision.handling.alerts import alert_message, publish_alert
from backend.supervision.handling.tables import Task
from backend.supervision.ledger.scoring_rules import GREEN, RED, YELLOW
from backend.supervision.measures.tables import Measure


async def open_task(
    measure: Measure, kind: str, summary: str, *, urgent=False, ref_type=None, ref_id=None
) -> Task:
    values = {
        "id": uuid7(),
        "measure": measure.id,
        "agency": measure.executing_agency,
        "kind": kind,
        "status": "open",
        "urgent": urgent,
        "summary": summary,
        "ref_type": ref_type,
        "ref_id": str(ref_id) if ref_id else None,
        "created_at": utcnow(),
        "closed_at": None,
        "closed_by": None,
        "resolution": "",
    }
    await store.insert_task(values)
    return sql.stored(Task, values)


async def close_tasks(ref_type: str, ref_id: object, closed_by: str, resolution: str) -> None:
    """Close the open tasks about one record (a decided contest, trip or transfer)."""
    await Task.update(
        {
            Task.status: "done",
            Task.closed_at: utcnow(),
            Task.closed_by: closed_by,
            Task.resolution: resolution,
        }
    ).where((Task.ref_type == ref_type) & (Task.ref_id == str(ref_id)) & (Task.status == "open"))


async def request_video_verification(measure: Measure, reason: str, ref_type: str, ref_id: object) -> Task:
    task = await open_task(
        measure, "video_verification", reason, urgent=True, ref_type=ref_type, ref_id=ref_id
    )
    title, body = await i18n.texts_for(measure.person, "video_verification")
    await notify.enqueue(
        measure.person,
        "video_verification",
        title,
        body,
        f"video:{task.id}",
        urgent=True,
    )
    return task


async def follow_code_change(measure: Measure, booking, actor: Actor) -> None:
    """What a ledger booking (backend.supervision.ledger.entries.Booking) sets in motion: nothing unless it
    changed the measure's code. Called by whoever booked it, inside the same transaction."""
    if booking.code_changed:
        await on_code_change(measure, booking.code_before, booking.code_after, actor, booking.values["event"])


async def on_code_change(measure: Measure, old: str, new: str, actor: Actor, cause: str) -> None:
    await audit.record(
        actor,
        "measure.code_changed",
        "measure",
        measure.id,
        {"from": old, "to": new},
        measure.executing_agency,
    )
    plan = await handling_plans.plan_of(measure.executing_agency)
    if new == YELLOW and old == GREEN:
        if plan.yellow_review_task:
            await open_task(
                measure, "review", f"Code turned yellow ({cause}): review the case and check-in rhythm"
            )
        title, body = await i18n.texts_for(measure.person, "code_yellow")
        await notify.enqueue(
            measure.person,
            "code_yellow",
            title,
            body,
            f"code:{measure.id}:yellow:{cause}",
        )
    elif new == RED:
        await _red(measure, cause, plan)
    elif new == GREEN:
        title, body = await i18n.texts_for(measure.person, "code_green")
        await notify.enqueue(
            measure.person,
            "code_green",
            title,
            body,
            f"code:{measure.id}:green:{cause}",
        )


async def _red(measure: Measure, cause: str, plan: handling_plans.HandlingPlan) -> None:
    name = await store.display_name(measure.person)
    message = f"{name or 'A supervised person'} reached code red ({cause}); score {measure.score}"
    alert_id, created_at = uuid7(), utcnow()
    await store.insert_alert(alert_id, measure.id, measure.executing_agency, RED, message, created_at)
    if plan.red_video_verification:
        await request_video_verification(measure, f"Code red: verify {name} by video", "alert", alert_id)
    await open_task(
        measure,
        "review_measure",
        f"Code red ({cause}): review whether the measure still fits",
        urgent=True,
        ref_type="alert",
        ref_id=alert_id,
    )
    officers = await store.phoned_staff(measure.executing_agency) if plan.red_sms_officers else []
    for officer in officers:
        title = i18n.translate("alert_red.title", await i18n.language_of(officer["id"]))
        await notify.enqueue(
            officer["id"], "alert_red", title, message, f"alert:{alert_id}:{officer['id']}", urgent=True
        )
    payload = alert_message(alert_id, measure.id, RED, message, created_at)

    async def push() -> None:
        await publish_alert(str(measure.executing_agency), payload)

    after_commit(push)
