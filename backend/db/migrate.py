"""Apply piccolo migrations, then make sure the rows the app relies on exist."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards

from backend.audit.services import GENESIS
from backend.audit.tables import AuditHead
from backend.db.engine import close_database, open_database
from backend.supervision.rules import ensure_default_rules


async def migrate() -> None:
    await open_database()
    try:
        result = await run_forwards(app_name="all")
        if not result.success:
            raise RuntimeError(f"migration failed: {result.message}")
        if not await AuditHead.exists().where(AuditHead.id == 1):
            await AuditHead.insert(AuditHead(id=1, last_seq=0, last_hash=GENESIS))
        await ensure_default_rules()
    finally:
        await close_database()
