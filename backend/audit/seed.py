"""The audit chain's head row (id 1), at the genesis hash until the first entry links to it."""

from backend.audit.services import GENESIS
from backend.audit.tables import AuditHead


async def seed() -> None:
    if not await AuditHead.exists().where(AuditHead.id == 1):
        await AuditHead.insert(AuditHead(id=1, last_seq=0, last_hash=GENESIS))
