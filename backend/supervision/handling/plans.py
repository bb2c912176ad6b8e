"""Each agency's handling plan: what a yellow or red code sets in motion (defaults from the Hangzhou
practice in DOMAIN.md). The plan tunes the response; it cannot switch off the safety net: a red code always
raises a live alert and a "review the measure" task, whatever the plan says."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from backend.db.json import loaded
from backend.supervision.handling import store
from backend.supervision.ledger.scoring_rules import GREEN, RED, YELLOW


@dataclass(frozen=True)
class HandlingPlan:
    # Extra check-in windows per planned one while the code is yellow / red (0 keeps the normal rhythm).
    yellow_extra_windows: int = 1
    red_extra_windows: int = 1
    yellow_review_task: bool = True  # an officer reviews the case when it turns yellow
    red_sms_officers: bool = True  # SMS to the agency's officers on top of the live console alert
    red_video_verification: bool = True  # ask the person for a video call

    def extra_windows(self, code: str) -> int:
        return {GREEN: 0, YELLOW: self.yellow_extra_windows, RED: self.red_extra_windows}.get(code, 0)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, stored: dict | None) -> HandlingPlan:
        """Stored plans keep only what was set, so later defaults reach agencies that never changed them."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (stored or {}).items() if k in known})


async def plan_of(agency_id: object) -> HandlingPlan:
    row = await store.handling_plan_row(agency_id)
    return HandlingPlan.from_json(loaded(row["handling_plan"], {}) if row else None)
