"""The 100-point ledger: every change of score is a row; the score never leaves 0..100.

One scoring path: `book()` takes the charges of one transaction (one for a check-in, an officer's
decision or a location event; thousands for the missed sweep), locks the measures' score rows, prices
each charge by the agency's rule, writes the entries and the measures' new score, code, compliant_since
and last activity. It changes nothing else: what a new code sets in motion is the caller's to call
(`handling.cascade.follow_code_change`), where a reader of that flow sees it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import Actor
from backend.core.errors import Conflict
from backend.db.engine import write_tx
from backend.supervision.ledger import scoring_rules as rules
from backend.supervision.ledger import store
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.tables import Measure


@dataclass(frozen=True)
class Charge:
    """One change of score to book: points from the agency's rule unless given."""

    measure_id: object
    event: str
    reason: str
    rule_id: str | None = None
    points: int | None = None
    evidence: tuple[str, object] | None = None
    reverses: int | None = None


@dataclass
class Booking:
    """A booked charge: its entry's values (its id when booked alone) and the code before and after it."""

    values: dict
    code_before: str
    code_after: str
    id: int | None = None

    @property
    def entry(self) -> LedgerEntry:
        # Built on demand: a sweep books 100k charges and reads none of them back as rows.
        return LedgerEntry(_exists_in_db=True, id=self.id, **self.values)

    @property
    def measure_id(self) -> object:
        return self.values["measure"]

    @property
    def code_changed(self) -> bool:
        return self.code_before != self.code_after


async def apply(
    measure: Measure,
    event: str,
    actor: Actor,
    reason: str,
    *,
    rule_id: str | None = None,
    points: int | None = None,
    evidence: tuple[str, object] | None = None,
    reverses: int | None = None,
) -> Booking:
    """One ledger row with its audit row; `measure` is updated in place (score, code, activity)."""
    async with write_tx():
        now = utcnow()
        charge = Charge(measure.id, event, reason, rule_id, points, evidence, reverses)
        [booking], state = await book([charge], actor, now)
        row = state[str(measure.id)]
        measure.score, measure.code = row["score"], row["code"]
        measure.compliant_since, measure.executing_agency = row["compliant_since"], row["executing_agency"]
        measure.last_activity_at = now
        await audit.record(
            actor,
            f"ledger.{event}",
            "measure",
            measure.id,
            {
                "entry": booking.id,
                "points": booking.values["points"],
                "rule": rule_id,
                "score": measure.score,
            },
            measure.executing_agency,
        )
        return booking


async def book(charges: list[Charge], actor: Actor, now: datetime) -> tuple[list[Booking], dict[str, dict]]:
    """The one scoring path (inside the caller's write_tx). Returns the bookings in the order of the
    charges and each measure's score row as it now stands, keyed by str(measure id)."""
    if not charges:
        return [], {}
    state = await store.lock_scores(list(dict.fromkeys(c.measure_id for c in charges)))
    priced: dict[tuple, rules.Rule] = {}
    limits: dict[object, rules.Thresholds] = {}
    decided_by = "rule" if actor.role == "system" else actor.id
    rows, bookings = [], []
    for charge in charges:
        row = state[str(charge.measure_id)]
        agency = row["executing_agency"]
        points, version = charge.points, None
        if charge.rule_id is not None:
            if (agency, charge.rule_id) not in priced:
                priced[agency, charge.rule_id] = await rules.resolve(agency, charge.rule_id)
            rule = priced[agency, charge.rule_id]
            points, version = rule.points, rule.version
        if agency not in limits:
            limits[agency] = await rules.thresholds(agency)
        before = row["code"]
        row["score"] = rules.clamp(row["score"] + points)
        row["code"] = limits[agency].code_for(row["score"])
        if points < 0:
            row["compliant_since"] = now
        values = {
            "measure": row["id"],
            "at": now,
            "event": charge.event,
            "points": points,
            "rule_id": charge.rule_id,
            "rule_version": version,
            "reason": charge.reason,
            "decided_by": decided_by,
            "evidence_type": charge.evidence[0] if charge.evidence else None,
            "evidence_id": str(charge.evidence[1]) if charge.evidence else None,
            "score_after": row["score"],
            "code_after": row["code"],
            "status": "active",
            "reverses": charge.reverses,
        }
        rows.append(tuple(values[c] for c in store.ENTRY_COLUMNS))
        bookings.append(Booking(values, before, row["code"]))
    bookings[0].id = await store.insert_entries(rows)
    # Measures that end equal are updated together: a sweep of 100k windows is a few statements.
    groups: dict[tuple, list] = defaultdict(list)
    for key in dict.fromkeys(str(c.measure_id) for c in charges):
        row = state[key]
        groups[row["score"], row["code"], row["compliant_since"]].append(row["id"])
    for (score, code, compliant_since), ids in groups.items():
        await store.set_scores(score, code, compliant_since, now, ids)
    return bookings, state


def code_changes(bookings: list[Booking]) -> dict[str, tuple[str, str]]:
    """Each measure's code before its first booking and after its last, where the two differ."""
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for booking in bookings:
        key = str(booking.measure_id)
        first.setdefault(key, booking.code_before)
        last[key] = booking.code_after
    return {key: (first[key], last[key]) for key in first if first[key] != last[key]}


async def reverse(
    measure: Measure, entry: LedgerEntry, actor: Actor, event: str, reason: str, status: str
) -> Booking:
    """Take an entry back (an officer's excuse or an upheld contest) with a new, opposite row."""
    async with write_tx():
        await store.lock_entry(entry.id)
        await entry.refresh()
        if entry.status != "active":
            raise Conflict("This ledger entry was already excused or overturned")
        if entry.points == 0 or entry.reverses is not None:
            raise Conflict("Only score changes can be taken back")
        entry.status = status
        await entry.save([LedgerEntry.status])
        return await apply(
            measure,
            event,
            actor,
            reason,
            points=-entry.points,
            reverses=entry.id,
            evidence=("ledger_entry", entry.id),
        )
