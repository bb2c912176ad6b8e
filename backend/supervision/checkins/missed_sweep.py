"""The missed-window sweep: every open window past its grace period costs its points, set-based."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM
from backend.db.bulk import bulk_insert
from backend.db.engine import write_tx
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import scoring_rules as rules
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.tables import Measure


async def sweep_missed(now: datetime | None = None) -> int:
    """Mark every open window past its grace period as missed and deduct points, in one transaction.

    Set-based: one UPDATE claims the windows, ledger rows go in as one bulk insert, measures are updated in
    groups of equal (score, code); only measures whose code changes run handling one by one.
    """
    now = now or utcnow()
    async with write_tx():
        claimed = await CheckinWindow.raw(
            "UPDATE checkin_windows SET status = 'missed' WHERE status = 'open' AND grace_until < {} "
            "RETURNING id, measure",
            now,
        )
        if not claimed:
            return 0
        windows_of: dict[str, list[str]] = defaultdict(list)
        for row in claimed:
            windows_of[str(row["measure"])].append(str(row["id"]))
        measures = await _load_measures(list(windows_of))
        agency_rule, agency_thresholds = {}, {}
        for agency in {m["executing_agency"] for m in measures}:
            agency_rule[agency] = await rules.resolve(agency, "missed_checkin")
            agency_thresholds[agency] = await rules.thresholds(agency)
        entries, groups, changed = [], defaultdict(list), []
        for m in measures:
            agency = m["executing_agency"]
            rule, limits = agency_rule[agency], agency_thresholds[agency]
            score = m["score"]
            for window_id in windows_of[str(m["id"])]:
                score = rules.clamp(score + rule.points)
                code = limits.code_for(score)
                entries.append(
                    (
                        m["id"],
                        now,
                        "missed_checkin",
                        rule.points,
                        rule.rule_id,
                        rule.version,
                        "No check-in in the window",
                        "rule",
                        "checkin_window",
                        window_id,
                        score,
                        code,
                        "active",
                    )
                )
            groups[(score, code)].append(m["id"])
            if code != m["code"]:
                changed.append((m["id"], m["code"], code))
        await bulk_insert(LedgerEntry, LEDGER_COLUMNS, entries)
        for (score, code), ids in groups.items():
            for start in range(0, len(ids), 5000):
                await Measure.update(
                    {Measure.score: score, Measure.code: code, Measure.compliant_since: now}
                ).where(Measure.id.is_in(ids[start : start + 5000]))
        await audit.record(
            SYSTEM,
            "checkin.sweep_missed",
            "sweep",
            now.isoformat(),
            sorted((str(r["measure"]), str(r["id"])) for r in claimed),
        )
        for measure_id, old, new in changed:
            measure = await Measure.objects().where(Measure.id == measure_id).first()
            await handling.on_code_change(measure, old, new, SYSTEM, "missed_checkin")
        return len(claimed)


LEDGER_COLUMNS = [
    "measure",
    "at",
    "event",
    "points",
    "rule_id",
    "rule_version",
    "reason",
    "decided_by",
    "evidence_type",
    "evidence_id",
    "score_after",
    "code_after",
    "status",
]


async def _load_measures(ids: list[str]) -> list[dict]:
    rows = []
    for start in range(0, len(ids), 5000):
        rows += await Measure.select(Measure.id, Measure.score, Measure.code, Measure.executing_agency).where(
            Measure.id.is_in(ids[start : start + 5000])
        )
    return rows
