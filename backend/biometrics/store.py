"""Every hand-written statement of biometrics.

Every check-in reads the person's template, enrolled or not, so that read is hand-written (see
backend.db.sql).
"""

from __future__ import annotations

from backend.db import sql


async def sealed_template(person_id: object) -> dict | None:
    """The person's sealed template and the measure it was enrolled under (`measure`, `sealed`)."""
    return await sql.fetch_one("SELECT measure, sealed FROM face_templates WHERE person = $1", person_id)
