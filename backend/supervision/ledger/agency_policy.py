"""Agency overrides of the scoring rules and code thresholds (agency administrators)."""

from __future__ import annotations

from backend.accounts import access
from backend.accounts.principal import Principal
from backend.accounts.roles import Role
from backend.accounts.tables import Agency
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.errors import Forbidden, InvalidInput, NotFound
from backend.db.engine import write_tx
from backend.db.json import loaded
from backend.supervision.handling.plans import HandlingPlan, plan_of
from backend.supervision.ledger.scoring_rules import DEFAULT_RULES, Rule
from backend.supervision.ledger.tables import AgencyPolicy, ScoreRule


async def _agency_for_admin(principal: Principal, agency_id: str) -> Agency:
    agency = await Agency.objects().where(Agency.id == agency_id).first()
    if agency is None:
        raise NotFound("agency")
    if principal.role != Role.ADMIN or not (
        access.is_platform_admin(principal) or principal.agency_id == agency_id
    ):
        raise Forbidden("Only the agency's administrator changes its rules")
    return agency


async def _policy_row(agency_id: object) -> AgencyPolicy:
    return await AgencyPolicy.objects().where(AgencyPolicy.agency == agency_id).first() or AgencyPolicy(
        agency=agency_id
    )


async def set_rule(principal: Principal, agency_id: str, rule_id: str, points: int) -> Rule:
    agency = await _agency_for_admin(principal, agency_id)
    if rule_id not in DEFAULT_RULES:
        raise InvalidInput("rule_id", f"must be one of {', '.join(DEFAULT_RULES)}")
    if (points > 0) != (DEFAULT_RULES[rule_id] > 0):
        raise InvalidInput("points", "must keep the sign of the default rule")
    async with write_tx():
        current = (
            await ScoreRule.select(ScoreRule.version)
            .where((ScoreRule.agency == agency.id) & (ScoreRule.rule_id == rule_id))
            .order_by(ScoreRule.version, ascending=False)
            .first()
        )
        version = (current["version"] if current else 1) + 1
        await ScoreRule.update({ScoreRule.active: False}).where(
            (ScoreRule.agency == agency.id) & (ScoreRule.rule_id == rule_id)
        )
        await ScoreRule.insert(ScoreRule(agency=agency.id, rule_id=rule_id, points=points, version=version))
        await audit.record(
            principal.actor,
            "rule.changed",
            "agency",
            agency.id,
            {"rule": rule_id, "points": points, "version": version},
            agency.id,
        )
    return Rule(rule_id, points, version)


async def set_thresholds(
    principal: Principal, agency_id: str, green_min: int, yellow_min: int
) -> AgencyPolicy:
    agency = await _agency_for_admin(principal, agency_id)
    if yellow_min >= green_min:
        raise InvalidInput("yellow_min", "must be below green_min")
    async with write_tx():
        policy = await _policy_row(agency.id)
        policy.green_min, policy.yellow_min, policy.updated_at = green_min, yellow_min, utcnow()
        await policy.save()
        await audit.record(
            principal.actor,
            "thresholds.changed",
            "agency",
            agency.id,
            {"green_min": green_min, "yellow_min": yellow_min},
            agency.id,
        )
    return policy


async def set_keep_face_images(principal: Principal, agency_id: str, keep: bool) -> AgencyPolicy:
    """Raw face photos are not kept unless the agency turns this on (templates are always kept encrypted)."""
    agency = await _agency_for_admin(principal, agency_id)
    async with write_tx():
        policy = await _policy_row(agency.id)
        policy.keep_face_images, policy.updated_at = keep, utcnow()
        await policy.save()
        await audit.record(
            principal.actor, "privacy.changed", "agency", agency.id, {"keep_face_images": keep}, agency.id
        )
    return policy


async def set_handling_plan(principal: Principal, agency_id: str, changes: dict) -> HandlingPlan:
    """Change some settings of the agency's handling plan (the others keep their current values)."""
    agency = await _agency_for_admin(principal, agency_id)
    async with write_tx():
        policy = await _policy_row(agency.id)
        stored = loaded(policy.handling_plan, {}) | changes
        plan = HandlingPlan.from_json(stored)
        policy.handling_plan, policy.updated_at = stored, utcnow()
        await policy.save()
        await audit.record(
            principal.actor, "handling_plan.changed", "agency", agency.id, {"changes": changes}, agency.id
        )
    return plan


async def handling_plan(principal: Principal, agency_id: str) -> HandlingPlan:
    agency = await _agency_for_staff(principal, agency_id)
    return await plan_of(agency.id)


async def _agency_for_staff(principal: Principal, agency_id: str) -> Agency:
    agency = await Agency.objects().where(Agency.id == agency_id).first()
    if agency is None or not (access.is_platform_admin(principal) or principal.agency_id == agency_id):
        raise NotFound("agency")
    return agency
