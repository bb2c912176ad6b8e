"""Ending a measure: an officer of the executing agency says why; face data of ended measures is purged."""

from __future__ import annotations

from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.biometrics.services import Biometrics
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput, NotFound
from backend.db.engine import write_tx
from backend.supervision.measures.services import require_supervisor
from backend.supervision.measures.tables import Measure


async def end_measure(principal: Principal, measure_id: str, reason: str, biometrics: Biometrics) -> Measure:
    measure = await require_supervisor(principal, measure_id)
    if measure.status != "active":
        raise NotFound("active measure")
    if not reason.strip():
        raise InvalidInput("reason", "say why the measure ends")
    async with write_tx():
        measure.status, measure.ended_at = "ended", utcnow()
        await measure.save([Measure.status, Measure.ended_at])
        await audit.record(
            principal.actor,
            "measure.ended",
            "measure",
            measure.id,
            {"reason": reason},
            measure.executing_agency,
        )
    await biometrics.purge_ended()
    return measure
