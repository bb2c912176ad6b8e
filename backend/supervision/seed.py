"""The platform's default scoring rules (agency NULL), which an agency's own versions override."""

from backend.supervision.ledger.scoring_rules import ensure_default_rules


async def seed() -> None:
    await ensure_default_rules()
