"""Signal lost for longer than the agency allows: an officer task, and the person told. Never points.

A loss episode runs from the phone's last accepted fix until its next one; the sweep records it as one
`signal_lost` fence event, and that event names the episode here: one task per episode (the task refers
to it), one notification (its dedupe key names it). Sweeps running at once (two schedulers in a takeover,
a manual run) take the measure's row lock before looking for the task, so only one opens it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import geofence
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM
from backend.db.engine import write_tx
from backend.db.json import loaded
from backend.i18n import translate
from backend.i18n.people import stored_language
from backend.notify import services as notify
from backend.supervision.fences import store
from backend.supervision.fences import uploads as locations
from backend.supervision.fences.tables import FenceState
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import scoring_rules as rules
from backend.supervision.measures import store as measures_store
from backend.supervision.measures.tables import Measure

TASK_KIND = "signal_loss"
MESSAGE_ID = "signal_lost.person"  # the person's message, for the message catalogue


def _duration(seconds: int) -> tuple[str, str]:
    """The threshold in words, (zh, en), from the message catalogue."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        key, params = ("duration.hours_one" if hours == 1 else "duration.hours"), {"hours": hours}
    else:
        key, params = "duration.minutes", {"minutes": max(1, round(seconds / 60))}
    return translate(key, "zh", **params), translate(key, "en", **params)


def signal_lost_person_text(threshold_s: int, language: str | None = None) -> tuple[str, str]:
    """Message `signal_lost.person` as (title, body): in the person's stored language, zh or en; with none
    stored, both (Chinese first, then English). The texts are in the message catalogue (backend/i18n)."""
    zh_for, en_for = _duration(threshold_s)
    zh = tuple(translate(f"{MESSAGE_ID}.{part}", "zh", duration=zh_for) for part in ("title", "body"))
    en = tuple(translate(f"{MESSAGE_ID}.{part}", "en", duration=en_for) for part in ("title", "body"))
    if language == "zh":
        return zh
    if language == "en":
        return en
    return f"{zh[0]} / {en[0]}", f"{zh[1]}\n{en[1]}"


async def open_for_long_losses(now: datetime | None = None) -> int:
    """Open the task and tell the person for every active measure whose phone has been silent for longer
    than its agency's threshold; returns how many episodes were newly acted on."""
    now = now or utcnow()
    quiet_since = now - timedelta(seconds=locations.SETTINGS.signal_loss_s)
    rows = await FenceState.objects().where(
        (FenceState.updated_at < quiet_since) & (FenceState.measure.status == "active")
    )
    policies: dict = {}
    opened = 0
    for row in rows:
        person_state = geofence.PersonState.from_json(loaded(row.state))
        if not person_state.signal_lost or person_state.seen_t is None:
            continue
        measure = await Measure.objects().where(Measure.id == row.measure).first()
        agency = measure.executing_agency
        if agency not in policies:
            policies[agency] = await rules.policy_for(agency)
        policy = policies[agency]
        last_fix = datetime.fromtimestamp(person_state.seen_t, UTC)
        if now - last_fix <= timedelta(seconds=policy.signal_loss_task_seconds):
            continue
        opened += await _act_on_episode(measure, policy, last_fix)
    return opened


async def _act_on_episode(measure: Measure, policy, last_fix: datetime) -> int:
    threshold = policy.signal_loss_task_seconds
    async with write_tx():
        # Serialises concurrent sweeps of this measure on PostgreSQL (SQLite's writer is single).
        await measures_store.lock(measure.id)
        episode = await store.signal_lost_episode(measure.id, last_fix)
        if episode is None or await store.episode_task(measure.id, str(episode["id"])):
            return 0
        local = last_fix.astimezone(ZoneInfo(measure.timezone))
        task = await handling.open_task(
            measure,
            TASK_KIND,
            f"No location from the phone for over {_duration(threshold)[1]} (last fix "
            f"{local:%Y-%m-%d %H:%M} local): check on the person",
            ref_type="fence_event",
            ref_id=episode["id"],
        )
        title, body = signal_lost_person_text(threshold, await stored_language(measure.person))
        # Not urgent: quiet hours hold it till morning; the officer's task is there meanwhile.
        await notify.enqueue(
            measure.person,
            "signal_lost",
            title,
            body,
            f"signal_lost:{episode['id']}",
            quiet=notify.QuietHours(policy.quiet_start_hour, policy.quiet_end_hour, measure.timezone),
        )
        await audit.record(
            SYSTEM,
            "signal_loss.task_opened",
            "measure",
            measure.id,
            {
                "task": str(task.id),
                "fence_event": str(episode["id"]),
                "last_fix": last_fix.isoformat(),
                "threshold_s": threshold,
            },
            measure.executing_agency,
        )
    return 1
