"""Stage transfer: one action hands the supervision record to the next stage's agency, which must accept."""

from __future__ import annotations

from backend.accounts.principal import Principal
from backend.accounts.tables import AccessGrant, Agency
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.db.engine import write_tx
from backend.supervision.decisions.tables import Transfer
from backend.supervision.handling import cascade as handling
from backend.supervision.handling.tables import Task
from backend.supervision.measures.services import require_supervisor
from backend.supervision.measures.tables import Measure

STAGES = ("investigation", "prosecution", "trial", "execution", "correction")
STAGE_AGENCY_KIND = {
    "investigation": "police",
    "prosecution": "procuratorate",
    "trial": "court",
    "execution": "justice_bureau",
    "correction": "justice_bureau",
}


async def request(
    principal: Principal, measure_id: str, to_agency_id: str, to_stage: str, note: str
) -> Transfer:
    measure = await require_supervisor(principal, measure_id)
    if to_stage not in STAGES:
        raise InvalidInput("to_stage", f"must be one of {', '.join(STAGES)}")
    if STAGES.index(to_stage) <= STAGES.index(measure.stage):
        raise InvalidInput("to_stage", f"must come after the current stage ({measure.stage})")
    agency = await Agency.objects().where(Agency.id == to_agency_id).first()
    if agency is None:
        raise NotFound("agency")
    if agency.kind != STAGE_AGENCY_KIND[to_stage]:
        raise InvalidInput(
            "to_agency_id", f"the {to_stage} stage is handled by a {STAGE_AGENCY_KIND[to_stage]}"
        )
    async with write_tx():
        if await Transfer.exists().where((Transfer.measure == measure.id) & (Transfer.status == "pending")):
            raise Conflict("A transfer of this record is already waiting for acceptance")
        transfer = Transfer(
            measure=measure.id,
            from_agency=measure.executing_agency,
            to_agency=agency.id,
            to_stage=to_stage,
            note=note.strip(),
            requested_by=principal.user_id,
        )
        await transfer.save()
        await Task.insert(
            Task(
                measure=measure.id,
                agency=agency.id,
                kind="transfer",
                urgent=False,
                summary=f"Accept supervision record from stage {measure.stage}: {note.strip()[:200]}",
                ref_type="transfer",
                ref_id=str(transfer.id),
            )
        )
        await audit.record(
            principal.actor,
            "transfer.requested",
            "measure",
            measure.id,
            {"transfer": str(transfer.id), "to": str(agency.id), "stage": to_stage},
            measure.executing_agency,
        )
    return transfer


async def incoming(principal: Principal) -> list[Transfer]:
    return (
        await Transfer.objects()
        .where((Transfer.to_agency == principal.agency_id) & (Transfer.status == "pending"))
        .order_by(Transfer.requested_at)
    )


async def decide(principal: Principal, transfer_id: str, accept: bool, note: str) -> Transfer:
    transfer = await Transfer.objects().where(Transfer.id == transfer_id).first()
    if transfer is None or str(transfer.to_agency) != principal.agency_id:
        raise NotFound("transfer")
    if principal.role == "admin":
        raise Forbidden("Transfers are accepted by the receiving agency's officers")
    if transfer.status != "pending":
        raise Conflict("This transfer was already decided")
    now = utcnow()
    async with write_tx():
        measure = await Measure.objects().where(Measure.id == transfer.measure).first()
        transfer.status = "accepted" if accept else "declined"
        transfer.decided_by, transfer.decided_at = principal.user_id, now
        await transfer.save()
        if accept:
            # The sending agency keeps read access to the history it wrote; the person's account goes along.
            await AccessGrant.insert(
                AccessGrant(object_type="measure", object_id=str(measure.id), agency=transfer.from_agency),
                AccessGrant(object_type="user", object_id=str(measure.person), agency=transfer.to_agency),
            )
            measure.executing_agency, measure.stage, measure.last_activity_at = (
                transfer.to_agency,
                transfer.to_stage,
                now,
            )
            await measure.save([Measure.executing_agency, Measure.stage, Measure.last_activity_at])
            await Task.update({Task.agency: transfer.to_agency}).where(
                (Task.measure == measure.id) & (Task.status == "open") & (Task.kind != "transfer")
            )
        await handling.close_tasks("transfer", transfer.id, principal.user_id, transfer.status)
        await audit.record(
            principal.actor,
            f"transfer.{transfer.status}",
            "measure",
            measure.id,
            {"transfer": str(transfer.id), "note": note},
            transfer.to_agency,
        )
    return transfer
