"""Placing, reading and ending measures; the notice acknowledgement; planning check-in windows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.accounts import access
from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, AgencyKind, Role
from backend.accounts.tables import Agency, User
from backend.audit import services as audit
from backend.core.clock import as_utc, utcnow
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.db.engine import write_tx
from backend.db.json import loaded
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.handling import plans as handling_plans
from backend.supervision.measures import checkin_plans as plans
from backend.supervision.measures import notices, store
from backend.supervision.measures.obligations import OPTIONAL, STATUTORY
from backend.supervision.measures.tables import Measure, NoticeAck, Obligation

# Art. 79: bail at most 12 months, residential surveillance at most 6.
STATUTORY_MAX_MONTHS = {"bail": 12, "residential_surveillance": 6}
KINDS = ("bail", "residential_surveillance", "community_correction")
STAGE_OF_AGENCY = {
    AgencyKind.POLICE: "investigation",
    AgencyKind.PROCURATORATE: "prosecution",
    AgencyKind.COURT: "trial",
    AgencyKind.JUSTICE_BUREAU: "correction",
}
# The inactivity board counts days: a phone's check-ins and uploads move last_activity_at at most this
# often, which spares the hot paths a write of the measures row (and its index) on nearly every request.
ACTIVITY_RESOLUTION = timedelta(hours=1)


async def note_activity(measure: Measure, now: datetime) -> None:
    """Inside the caller's transaction: the measure had activity now."""
    last = measure.last_activity_at
    if last is not None and now - as_utc(last) < ACTIVITY_RESOLUTION:
        return
    await store.set_activity(measure.id, now)
    measure.last_activity_at = now


SUPERVISING_ROLES = (Role.OFFICER, Role.PROSECUTOR, Role.JUDGE, Role.CORRECTIONS_OFFICER)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class NewMeasure:
    person_id: str
    kind: str
    legal_basis: str
    deciding_agency_id: str
    start_date: date
    end_date: date
    checkin_plan: dict
    timezone: str = "Asia/Shanghai"
    grace_minutes: int = 120
    optional_obligations: list[dict] | None = None


async def require_staff_measure(principal: Principal, measure_id: object) -> Measure:
    measure = await Measure.objects().where(Measure.id == measure_id).first()
    if measure is None or principal.role in PHONE_ROLES:
        raise NotFound("measure")
    if not await access.staff_can_see(principal, measure.executing_agency, "measure", measure.id):
        raise NotFound("measure")
    return measure


async def require_supervisor(principal: Principal, measure_id: object) -> Measure:
    """Acting on a measure (not just reading it) is for the executing agency's staff."""
    measure = await require_staff_measure(principal, measure_id)
    if principal.role not in SUPERVISING_ROLES or str(measure.executing_agency) != principal.agency_id:
        raise Forbidden("Only the executing agency's officers act on this measure")
    return measure


async def my_measure(principal: Principal) -> Measure:
    measure = await store.active_measure_of(principal.user_id)  # on every phone request
    if measure is None:
        raise NotFound("active measure")
    return measure


def _obligations(kind: str, optional: list[dict]) -> list[Obligation]:
    rows = [Obligation(code=c, statutory=True, text_en=en, text_zh=zh) for c, en, zh in STATUTORY[kind]]
    for index, item in enumerate(optional):
        code = item.get("code")
        if code not in OPTIONAL:
            raise InvalidInput(f"obligations[{index}].code", f"must be one of {', '.join(OPTIONAL)}")
        en, zh, param = OPTIONAL[code]
        value = str(item.get(param, "")).strip()
        if not value:
            raise InvalidInput(f"obligations[{index}].{param}", "is required for this obligation")
        rows.append(
            Obligation(
                code=code,
                statutory=False,
                text_en=en.format(**{param: value}),
                text_zh=zh.format(**{param: value}),
                params={param: value},
            )
        )
    return rows


async def create(principal: Principal, new: NewMeasure) -> Measure:
    if principal.role not in SUPERVISING_ROLES or not principal.agency_id:
        raise Forbidden("Measures are placed by officers of an agency")
    if new.kind not in KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
    if new.end_date <= new.start_date:
        raise InvalidInput("end_date", "must be after start_date")
    if new.kind in STATUTORY_MAX_MONTHS:
        months = STATUTORY_MAX_MONTHS[new.kind]
        if new.end_date > add_months(new.start_date, months):
            raise InvalidInput("end_date", f"{new.kind} may last at most {months} months (CPL art. 79)")
    if not 0 <= new.grace_minutes <= 24 * 60:
        raise InvalidInput("grace_minutes", "must be 0-1440")
    plan = plans.validate_plan(new.checkin_plan)
    tz = plans.validate_timezone(new.timezone)
    obligations = _obligations(new.kind, new.optional_obligations or [])
    person = await User.objects().where(User.id == new.person_id).first()
    if person is None or not await access.staff_can_see(principal, person.agency, "user", person.id):
        raise NotFound("person")
    if person.role != Role.SUPERVISEE:
        raise InvalidInput("person_id", "must be an enrolled supervised person")
    deciding = await Agency.objects().where(Agency.id == new.deciding_agency_id).first()
    if deciding is None:
        raise NotFound("deciding agency")
    own = await Agency.objects().where(Agency.id == principal.agency_id).first()
    async with write_tx():
        if await Measure.exists().where((Measure.person == person.id) & (Measure.status == "active")):
            raise Conflict("This person already has an active measure; change or end it first")
        measure = Measure(
            person=person.id,
            kind=new.kind,
            legal_basis=new.legal_basis,
            deciding_agency=deciding.id,
            executing_agency=own.id,
            stage=STAGE_OF_AGENCY[AgencyKind(own.kind)],
            start_date=new.start_date,
            end_date=new.end_date,
            timezone=tz,
            checkin_plan=plan,
            grace_minutes=new.grace_minutes,
            created_by=principal.user_id,
        )
        await measure.save()
        for obligation in obligations:
            obligation.measure = measure.id
        await Obligation.insert(*obligations)
        await audit.record(
            principal.actor,
            "measure.placed",
            "measure",
            measure.id,
            {"kind": new.kind, "person": str(person.id), "end": str(new.end_date)},
            own.id,
        )
        await plan_windows(measure, utcnow())
    return measure


async def plan_windows(
    measure: Measure, now: datetime, days: int = 2, handling: handling_plans.HandlingPlan | None = None
) -> int:
    """Create the scheduled windows of today and the next days (local time) that do not exist yet.
    `handling` is the agency's handling plan when the caller already has it (the hourly sweep)."""
    plan = loaded(measure.checkin_plan, {})
    handling = handling or await handling_plans.plan_of(measure.executing_agency)
    extra = handling.extra_windows(measure.code)
    local_today = now.astimezone(ZoneInfo(measure.timezone)).date()
    start = max(local_today, measure.start_date)
    wanted = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day > measure.end_date:
            break
        wanted += [w for w in plans.windows_for_day(plan, day, measure.timezone, extra) if w[1] > now]
    if not wanted:
        return 0
    existing = {
        row["opens_at"].timestamp()
        for row in await CheckinWindow.select(CheckinWindow.opens_at).where(
            (CheckinWindow.measure == measure.id)
            & (CheckinWindow.kind == "scheduled")
            & (CheckinWindow.opens_at >= wanted[0][0])
        )
    }
    grace = timedelta(minutes=measure.grace_minutes)
    new = [
        CheckinWindow(measure=measure.id, kind="scheduled", opens_at=o, closes_at=c, grace_until=c + grace)
        for o, c in wanted
        if o.timestamp() not in existing
    ]
    if new:
        await CheckinWindow.insert(*new)
    return len(new)


async def acknowledge_notice(
    principal: Principal, version: str, language: str, text_sha256: str, device_id: str
):
    measure = await my_measure(principal)
    shown = notices.notice(language, version)
    if text_sha256 != shown.sha256:
        raise InvalidInput("text_sha256", "does not match the notice text of that version and language")
    if version != notices.CURRENT_VERSION:
        raise InvalidInput("version", f"the current notice is {notices.CURRENT_VERSION}")
    async with write_tx():
        ack = NoticeAck(
            measure=measure.id,
            notice_version=version,
            language=language,
            text_sha256=text_sha256,
            device_id=device_id,
            acknowledged_at=utcnow(),
        )
        await ack.save()
        measure.notice_acknowledged_at = ack.acknowledged_at
        measure.last_activity_at = ack.acknowledged_at
        await measure.save([Measure.notice_acknowledged_at, Measure.last_activity_at])
        await audit.record(
            principal.actor,
            "notice.acknowledged",
            "measure",
            measure.id,
            {"version": version, "language": language, "sha256": text_sha256, "device": device_id},
            measure.executing_agency,
        )
    return ack
