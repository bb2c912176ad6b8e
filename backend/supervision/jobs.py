"""Scheduled sweeps of supervision: plan windows, remind, find misses, reward compliance, digests.

Each sweep reads indexed due-times and is safe to run twice: reminders carry dedupe keys, so a scheduler
restart never sends one again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend import i18n
from backend.core.clock import utcnow
from backend.core.context import SYSTEM
from backend.db.engine import write_tx
from backend.notify import services as notify
from backend.supervision.checkins.missed_sweep import sweep_missed
from backend.supervision.checkins.random_checks import open_random_window
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.deadlines import board as deadlines
from backend.supervision.deadlines import local_days
from backend.supervision.decisions import summonses
from backend.supervision.fences import signal_loss
from backend.supervision.handling import cascade as handling
from backend.supervision.handling import plans as handling_plans
from backend.supervision.ledger import entries as ledger
from backend.supervision.ledger import scoring_rules as rules
from backend.supervision.measures import services as measures
from backend.supervision.measures.tables import Measure

REMIND_AHEAD = timedelta(minutes=15)
ENDING_NOTICE_DAYS = (7, 1)
COMPLIANT_PERIOD = timedelta(days=30)


async def _quiet_hours(measure: Measure) -> notify.QuietHours:
    policy = await rules.policy_for(measure.executing_agency)
    return notify.QuietHours(policy.quiet_start_hour, policy.quiet_end_hour, measure.timezone)


async def plan_all_windows(now: datetime | None = None) -> int:
    now = now or utcnow()
    created = 0
    plan_of_agency: dict = {}  # one handling-plan lookup per agency, not per measure
    for measure in await Measure.objects().where(Measure.status == "active"):
        agency = measure.executing_agency
        if agency not in plan_of_agency:
            plan_of_agency[agency] = await handling_plans.plan_of(agency)
        created += await measures.plan_windows(measure, now, handling=plan_of_agency[agency])
    return created


async def send_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    queued = 0
    upcoming = await CheckinWindow.select(
        CheckinWindow.id,
        CheckinWindow.opens_at,
        CheckinWindow.measure.person,
        CheckinWindow.measure,
        CheckinWindow.measure.timezone,
    ).where(
        (CheckinWindow.status == "open")
        & (CheckinWindow.opens_at <= now + REMIND_AHEAD)
        & (CheckinWindow.closes_at > now)
        & (CheckinWindow.kind == "scheduled")
    )
    for w in upcoming:
        # The person's own clock: the time in the measure's zone, with the zone named.
        local = i18n.local_time(w["opens_at"], w["measure.timezone"])
        title, body = await i18n.texts_for(w["measure.person"], "reminder.checkin", time=local)
        # Check-in reminders are time-critical: they are not held back by quiet hours.
        queued += await notify.enqueue(
            w["measure.person"],
            "checkin_reminder",
            title,
            body,
            f"remind:window:{w['id']}",
            urgent=True,
        )
    active = await Measure.objects().where(Measure.status == "active")
    for measure in active:
        quiet = await _quiet_hours(measure)
        today = local_days.today_in(measure.timezone, now)  # the person's day, not the UTC date
        days_left = (measure.end_date - today).days
        if days_left in ENDING_NOTICE_DAYS:
            title, body = await i18n.texts_for(measure.person, "measure_ending", date=measure.end_date)
            queued += await notify.enqueue(
                measure.person,
                "measure_ending",
                title,
                body,
                f"ending:{measure.id}:{days_left}",
                quiet=quiet,
            )
        if measure.notice_acknowledged_at is None:
            title, body = await i18n.texts_for(measure.person, "ack_due")
            queued += await notify.enqueue(
                measure.person,
                "ack_due",
                title,
                body,
                f"ack:{measure.id}:{today.isoformat()}",
                quiet=quiet,
            )
    return queued


async def reward_compliance(now: datetime | None = None) -> int:
    now = now or utcnow()
    due = await Measure.objects().where(
        (Measure.status == "active")
        & (Measure.compliant_since <= now - COMPLIANT_PERIOD)
        & (Measure.score < 100)
    )
    for measure in due:
        async with write_tx():
            booking = await ledger.apply(
                measure,
                "compliant_30_days",
                SYSTEM,
                "30 days without a deduction",
                rule_id="compliant_30_days",
            )
            await handling.follow_code_change(measure, booking, SYSTEM)
            await Measure.update({Measure.compliant_since: now}).where(Measure.id == measure.id)
    return len(due)


# Unannounced checks opened by rule (CPL art. 78): how often per code, and for how long.
RANDOM_CHECK_EVERY = {"yellow": timedelta(hours=24), "red": timedelta(hours=6)}
RANDOM_CHECK_MINUTES = 30


async def random_checks(now: datetime | None = None) -> int:
    """Open a short random window for yellow and red measures without a recent one (daytime only)."""
    now = now or utcnow()
    opened = 0
    for measure in await Measure.objects().where(
        (Measure.status == "active") & Measure.code.is_in(["yellow", "red"])
    ):
        local_hour = now.astimezone(ZoneInfo(measure.timezone)).hour
        if not 8 <= local_hour < 20:
            continue
        since = now - RANDOM_CHECK_EVERY[measure.code]
        if await CheckinWindow.exists().where(
            (CheckinWindow.measure == measure.id)
            & (CheckinWindow.kind == "random")
            & (CheckinWindow.opens_at > since)
        ):
            continue
        await open_random_window(measure, SYSTEM, RANDOM_CHECK_MINUTES, now)
        opened += 1
    return opened


JOBS = [
    ("supervision.plan_windows", plan_all_windows, {"trigger": "interval", "hours": 1}),
    ("supervision.reminders", send_reminders, {"trigger": "interval", "minutes": 5}),
    ("supervision.summons_reminders", summonses.remind, {"trigger": "interval", "minutes": 5}),
    ("supervision.sweep_missed", sweep_missed, {"trigger": "interval", "minutes": 5}),
    ("supervision.random_checks", random_checks, {"trigger": "interval", "minutes": 30}),
    ("supervision.signal_loss", signal_loss.sweep_signal_loss, {"trigger": "interval", "minutes": 5}),
    ("supervision.reward_compliance", reward_compliance, {"trigger": "cron", "hour": 2}),
    ("supervision.deadline_digest", deadlines.send_daily_digests, {"trigger": "cron", "hour": 8}),
]
