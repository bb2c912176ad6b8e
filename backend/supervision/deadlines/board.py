"""Time limits for supervising prosecutors: measures ending soon or overdue, and cases gone quiet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import i18n
from backend.accounts import access
from backend.accounts.principal import Principal
from backend.accounts.roles import PHONE_ROLES, Role
from backend.accounts.tables import Agency, User
from backend.core.clock import utcnow
from backend.core.errors import Forbidden
from backend.notify import services as notify
from backend.supervision.deadlines import local_days
from backend.supervision.measures.tables import Measure

HORIZONS = (30, 7, 1)


@dataclass
class Board:
    ending: dict[
        int, list[dict]
    ]  # days -> measures ending within that many days (and not within a shorter horizon)
    overdue: list[dict]
    inactive: list[dict]


async def supervised_agency_ids(principal: Principal) -> set[str] | None:
    """Prosecutors watch every agency in their jurisdiction; other staff their own visible agencies."""
    if principal.role in PHONE_ROLES:
        raise Forbidden("Staff only")
    if principal.role == Role.PROSECUTOR and principal.agency_id:
        own = await Agency.objects().where(Agency.id == principal.agency_id).first()
        prefix = access.jurisdiction_prefix(own.region_code)
        return {
            str(r["id"]) for r in await Agency.select(Agency.id).where(Agency.region_code.like(f"{prefix}%"))
        }
    return await access.visible_agency_ids(principal)


def _row(m: dict, now: datetime) -> dict:
    return {
        "measure_id": str(m["id"]),
        "person_id": str(m["person"]),
        "person_name": m["person.display_name"],
        "kind": m["kind"],
        "stage": m["stage"],
        "executing_agency_id": str(m["executing_agency"]),
        "end_date": m["end_date"].isoformat(),
        "days_left": local_days.days_left(m["end_date"], m["timezone"], now),
        "code": m["code"],
        "score": m["score"],
        "last_activity_at": m["last_activity_at"].isoformat(),
    }


async def board(principal: Principal, inactive_days: int = 14, now: datetime | None = None) -> Board:
    now = now or utcnow()
    agencies = await supervised_agency_ids(principal)

    def active():  # piccolo queries are mutable builders: start a fresh one for each question
        query = Measure.select(
            Measure.id,
            Measure.person,
            Measure.person.display_name,
            Measure.kind,
            Measure.stage,
            Measure.executing_agency,
            Measure.end_date,
            Measure.timezone,
            Measure.code,
            Measure.score,
            Measure.last_activity_at,
        ).where(Measure.status == "active")
        return (
            query.where(Measure.executing_agency.is_in(sorted(agencies))) if agencies is not None else query
        )

    if agencies is not None and not agencies:
        return Board({h: [] for h in HORIZONS}, [], [])
    # One indexed range over the caseload, bounded by the latest date on Earth; each measure is then
    # counted in its own zone (a Shanghai measure is a day further on than UTC before 08:00).
    soon = (
        await active()
        .where(Measure.end_date <= local_days.latest_today(now) + timedelta(days=max(HORIZONS)))
        .order_by(Measure.end_date)
    )
    ending: dict[int, list[dict]] = {h: [] for h in HORIZONS}
    overdue = []
    for m in soon:
        row = _row(m, now)
        left = row["days_left"]
        if left < 0:
            overdue.append(row)
        elif left <= max(HORIZONS):
            ending[min(h for h in HORIZONS if left <= h)].append(row)
    quiet = (
        await active()
        .where(Measure.last_activity_at < now - timedelta(days=inactive_days))
        .order_by(Measure.last_activity_at)
    )
    return Board(ending, overdue, [_row(m, now) for m in quiet])


async def send_daily_digests(now: datetime | None = None) -> int:
    """One digest per prosecutor per day (deduplicated by date, so a re-run sends nothing new)."""
    now = now or utcnow()
    sent = 0
    for prosecutor in await User.objects().where((User.role == Role.PROSECUTOR) & (User.active == True)):  # noqa: E712
        principal = Principal(
            str(prosecutor.id),
            prosecutor.role,
            "digest",
            str(prosecutor.agency),
            prosecutor.region_code,
            "console",
        )
        b = await board(principal, now=now)
        title, body = await i18n.texts_for(
            prosecutor.id,
            "deadline_digest",
            ending_1=len(b.ending[1]),
            ending_7=len(b.ending[7]),
            ending_30=len(b.ending[30]),
            overdue=len(b.overdue),
            inactive=len(b.inactive),
        )
        sent += await notify.enqueue(
            prosecutor.id,
            "deadline_digest",
            title,
            body,
            # Prosecutors carry no zone of their own: their day is the default zone's.
            f"digest:{prosecutor.id}:{local_days.today_in(None, now).isoformat()}",
            sms=False,
        )
    return sent
