"""The rule opens random checks for red and yellow measures only."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.core.clock import utcnow
from backend.supervision import jobs
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.measures.tables import Measure
from tests.support.api import bearer, demo_staff
from tests.support.supervision import enrol_and_place

CHINA_TIME = ZoneInfo("Asia/Shanghai")


async def test_rule_opens_random_checks_for_red_and_yellow_measures_only(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    red = await enrol_and_place(client, officer)
    green = await enrol_and_place(client, officer)
    await Measure.update({Measure.code: "red", Measure.score: 50}).where(Measure.id == red["measure"]["id"])
    # A day well after today: random windows other tests open at the real time are all older than six
    # hours then, so only the rule's own windows decide what opens.
    day = (utcnow() + timedelta(days=30)).astimezone(CHINA_TIME).date()
    noon = datetime.combine(day, time(12), tzinfo=CHINA_TIME)
    night = datetime.combine(day, time(2), tzinfo=CHINA_TIME)
    await jobs.random_checks(night)
    assert not await CheckinWindow.exists().where(
        (CheckinWindow.measure == red["measure"]["id"]) & (CheckinWindow.kind == "random")
    )
    assert await jobs.random_checks(noon) >= 1
    assert await jobs.random_checks(noon + timedelta(hours=1)) == 0  # not again within six hours
    windows = await CheckinWindow.objects().where(
        (CheckinWindow.measure == red["measure"]["id"]) & (CheckinWindow.kind == "random")
    )
    assert len(windows) == 1 and windows[0].created_by == "system"
    assert not await CheckinWindow.exists().where(
        (CheckinWindow.measure == green["measure"]["id"]) & (CheckinWindow.kind == "random")
    )
    inbox = (await client.get("/m/v1/inbox", headers=bearer(red["phone"]))).json()["items"]
    assert any(m["kind"] == "random_checkin" and m["urgent"] for m in inbox)
