"""The missed-window sweep scores on the ledger's one path, the check-in's: a missed window is activity on
the measure (last_activity_at moves, as it does for every ledger row), and a miss that turns the code
yellow sets handling in motion exactly as a deduction from a check-in would."""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import as_utc, utcnow
from backend.supervision.handling.tables import Task
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.tables import Measure
from tests.support.api import demo_staff
from tests.support.supervision import enrol_and_place, miss


async def test_a_missed_window_moves_the_measures_last_activity(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    long_ago = utcnow() - timedelta(days=20)
    await Measure.update({Measure.last_activity_at: long_ago}).where(Measure.id == measure_id)

    before = utcnow()
    await miss(client, officer, measure_id)

    measure = await Measure.objects().where(Measure.id == measure_id).first()
    assert as_utc(measure.last_activity_at) >= before - timedelta(seconds=1)
    entries = await LedgerEntry.objects().where(LedgerEntry.measure == measure_id)
    assert [(e.event, e.points, e.score_after) for e in entries] == [("missed_checkin", -5, 95)]
    assert as_utc(measure.compliant_since) >= before - timedelta(seconds=1)


async def test_misses_that_turn_the_code_yellow_open_the_review_task(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id = case["measure"]["id"]
    for _ in range(10):  # each miss costs 5 of 100 points; the agency's thresholds say when it turns
        await miss(client, officer, measure_id)
        measure = await Measure.objects().where(Measure.id == measure_id).first()
        if measure.code != "green":
            break
    assert measure.code == "yellow"
    reviews = await Task.objects().where((Task.measure == measure_id) & (Task.kind == "review"))
    assert len(reviews) == 1
