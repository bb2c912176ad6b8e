"""Scoring rules and code thresholds: platform defaults, overridable per agency, versioned."""

from __future__ import annotations

from dataclasses import dataclass

from backend.supervision.ledger import store
from backend.supervision.ledger.tables import AgencyPolicy, ScoreRule

MAX_SCORE, MIN_SCORE = 100, 0
DEFAULT_RULES = {
    "missed_checkin": -5,
    "failed_face_match": -10,
    "fence_breach_low": -10,
    "fence_breach_medium": -20,
    "fence_breach_high": -30,
    "missed_summons": -20,
    "unapproved_travel": -20,
    "unreported_address_change": -10,
    "compliant_30_days": 5,
}
GREEN, YELLOW, RED = "green", "yellow", "red"


@dataclass(frozen=True)
class Rule:
    rule_id: str
    points: int
    version: int


@dataclass(frozen=True)
class Thresholds:
    green_min: int = 80
    yellow_min: int = 60

    def code_for(self, score: int) -> str:
        if score >= self.green_min:
            return GREEN
        return YELLOW if score >= self.yellow_min else RED


def clamp(score: int) -> int:
    return max(MIN_SCORE, min(MAX_SCORE, score))


async def ensure_default_rules() -> None:
    existing = {
        r["rule_id"] for r in await ScoreRule.select(ScoreRule.rule_id).where(ScoreRule.agency.is_null())
    }
    missing = [
        ScoreRule(rule_id=k, points=v, version=1) for k, v in DEFAULT_RULES.items() if k not in existing
    ]
    if missing:
        await ScoreRule.insert(*missing)


async def resolve(agency_id: object, rule_id: str) -> Rule:
    """The agency's active version of a rule, else the platform default."""
    rows = await store.rule_versions(agency_id, rule_id)  # for every ledger row: hand-written
    own = [r for r in rows if r["agency"] is not None]
    chosen = (own or [r for r in rows if r["agency"] is None] or [None])[0]
    if chosen is None:
        if rule_id not in DEFAULT_RULES:
            raise KeyError(rule_id)
        return Rule(rule_id, DEFAULT_RULES[rule_id], 1)
    return Rule(rule_id, chosen["points"], chosen["version"])


async def thresholds(agency_id: object) -> Thresholds:
    row = await store.thresholds_row(agency_id)
    return Thresholds(row["green_min"], row["yellow_min"]) if row else Thresholds()


async def policy_for(agency_id: object) -> AgencyPolicy:
    return await AgencyPolicy.objects().where(AgencyPolicy.agency == agency_id).first() or AgencyPolicy(
        agency=agency_id
    )
