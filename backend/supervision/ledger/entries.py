"""The 100-point ledger: every change of score is a row; the score never leaves 0..100."""

from __future__ import annotations

from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.context import Actor
from backend.core.errors import Conflict
from backend.db import sql
from backend.db.engine import write_tx
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import scoring_rules as rules
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.tables import Measure


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
) -> LedgerEntry:
    """One ledger row (points from the agency rule unless given); updates score and code, runs handling."""
    async with write_tx():
        # Location events and sweeps land here in bulk: hand-written statements (see backend.db.sql).
        current = await sql.fetch_one_for_update(
            "SELECT score, code, executing_agency, compliant_since FROM measures WHERE id = $1", measure.id
        )
        measure.score, measure.code = current["score"], current["code"]
        measure.compliant_since = current["compliant_since"]
        measure.executing_agency = current["executing_agency"]
        version = None
        if rule_id is not None:
            rule = await rules.resolve(measure.executing_agency, rule_id)
            points, version = rule.points, rule.version
        now = utcnow()
        old_code = measure.code
        measure.score = rules.clamp(measure.score + points)
        measure.code = (await rules.thresholds(measure.executing_agency)).code_for(measure.score)
        measure.last_activity_at = now
        if points < 0:
            measure.compliant_since = now
        values = {
            "measure": measure.id,
            "at": now,
            "event": event,
            "points": points,
            "rule_id": rule_id,
            "rule_version": version,
            "reason": reason,
            "decided_by": "rule" if actor.role == "system" else actor.id,
            "evidence_type": evidence[0] if evidence else None,
            "evidence_id": str(evidence[1]) if evidence else None,
            "score_after": measure.score,
            "code_after": measure.code,
            "status": "active",
            "reverses": reverses,
        }
        inserted = await sql.fetch_one(_INSERT_ENTRY, *values.values())
        entry = LedgerEntry(_exists_in_db=True, id=inserted["id"], **values)
        await sql.execute(
            "UPDATE measures SET score = $1, code = $2, last_activity_at = $3, compliant_since = $4 "
            "WHERE id = $5",
            measure.score,
            measure.code,
            now,
            measure.compliant_since,
            measure.id,
        )
        await audit.record(
            actor,
            f"ledger.{event}",
            "measure",
            measure.id,
            {"entry": entry.id, "points": points, "rule": rule_id, "score": measure.score},
            measure.executing_agency,
        )
        if measure.code != old_code:
            await handling.on_code_change(measure, old_code, measure.code, actor, event)
        return entry


_INSERT_ENTRY = (
    "INSERT INTO ledger_entries (measure, at, event, points, rule_id, rule_version, reason, decided_by, "
    "evidence_type, evidence_id, score_after, code_after, status, reverses) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
)


async def reverse(measure: Measure, entry: LedgerEntry, actor: Actor, event: str, reason: str, status: str):
    """Take an entry back (an officer's excuse or an upheld contest) with a new, opposite row."""
    async with write_tx():
        # Two officers excusing the same entry at once: the second waits here, then finds it taken back.
        await sql.fetch_one_for_update("SELECT id FROM ledger_entries WHERE id = $1", entry.id)
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
