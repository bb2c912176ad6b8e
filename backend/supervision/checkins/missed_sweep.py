"""The missed-window sweep: every open window past its grace period costs its points, set-based.

The windows are claimed in one statement and scored on the ledger's one path (`ledger.book`, the same as a
check-in's): entries in one bulk insert, measures updated in groups of equal score, code and activity.
Only measures whose code changes run handling, one by one, here where a reader sees it.
"""

from __future__ import annotations

from datetime import datetime

from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import SYSTEM
from backend.db.engine import write_tx
from backend.supervision.checkins import store
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import entries as ledger
from backend.supervision.measures.tables import Measure


async def sweep_missed(now: datetime | None = None) -> int:
    """Mark every open window past its grace period as missed and deduct its points, in one transaction."""
    now = now or utcnow()
    async with write_tx():
        claimed = await store.claim_missed_windows(now)
        if not claimed:
            return 0
        charges = [
            ledger.Charge(
                row["measure"],
                "missed_checkin",
                "No check-in in the window",
                rule_id="missed_checkin",
                evidence=("checkin_window", row["id"]),
            )
            for row in sorted(claimed, key=lambda r: str(r["measure"]))
        ]
        bookings, _ = await ledger.book(charges, SYSTEM, now)
        await audit.record(
            SYSTEM,
            "checkin.sweep_missed",
            "sweep",
            now.isoformat(),
            sorted((str(r["measure"]), str(r["id"])) for r in claimed),
        )
        for measure_id, (old, new) in ledger.code_changes(bookings).items():
            measure = await Measure.objects().where(Measure.id == measure_id).first()
            await handling.on_code_change(measure, old, new, SYSTEM, "missed_checkin")
        return len(claimed)
