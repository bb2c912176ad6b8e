"""Table rows to response bodies."""

from __future__ import annotations

import msgspec

from backend import i18n
from backend.db.json import loaded
from backend.supervision import schemas as s
from backend.supervision.agency_schemas import DeadlineRow


def measure_out(m, obligations) -> s.MeasureOut:
    return s.MeasureOut(
        id=m.id,
        person_id=m.person,
        kind=m.kind,
        legal_basis=m.legal_basis,
        stage=m.stage,
        deciding_agency_id=m.deciding_agency,
        executing_agency_id=m.executing_agency,
        start_date=m.start_date,
        end_date=m.end_date,
        timezone=m.timezone,
        status=m.status,
        score=m.score,
        code=m.code,
        notice_acknowledged=m.notice_acknowledged_at is not None,
        checkin_plan=msgspec.convert(loaded(m.checkin_plan, {}), s.CheckinPlanOut, strict=False),
        grace_minutes=m.grace_minutes,
        obligations=[s.ObligationOut(o.code, o.statutory, o.text_en, o.text_zh) for o in obligations],
    )


def entry_out(e, language: str = i18n.DEFAULT_LANGUAGE) -> s.LedgerEntryOut:
    return s.LedgerEntryOut(
        id=e.id,
        at=e.at,
        event=e.event,
        points=e.points,
        rule_id=e.rule_id,
        rule_version=e.rule_version,
        reason=e.reason,
        decided_by=e.decided_by,
        evidence_type=e.evidence_type,
        evidence_id=e.evidence_id,
        score_after=e.score_after,
        code_after=e.code_after,
        status=e.status,
        reverses=e.reverses,
        reason_text=ledger_text(e, language),
    )


def ledger_text(e, language: str) -> str:
    """What the entry means for its reader: a taken-back entry, the rule applied, or an adjustment."""
    if e.reverses is not None:
        return i18n.translate("ledger.reversed", language, entry=e.reverses)
    if e.rule_id:
        return i18n.translate(
            f"ledger.rule.{e.rule_id}", language, fallback="ledger.rule.other", rule_id=e.rule_id
        )
    return i18n.translate("ledger.adjustment", language)


def task_out(t) -> s.TaskOut:
    return s.TaskOut(
        t.id, t.measure, t.kind, t.status, t.urgent, t.summary, t.ref_type, t.ref_id, t.created_at
    )


def alert_out(a) -> s.AlertOut:
    return s.AlertOut(a.id, a.measure, a.level, a.message, a.created_at, a.acknowledged_at)


def inbox_out(n) -> s.InboxItem:
    return s.InboxItem(n.id, n.kind, n.title, n.body, n.urgent, n.created_at, n.read_at is not None)


def board_row(r: dict) -> s.BoardRow:
    return s.BoardRow(
        measure_id=r["id"],
        person_id=r["person"],
        person_name=r["person.display_name"],
        kind=r["kind"],
        stage=r["stage"],
        code=r["code"],
        score=r["score"],
        end_date=r["end_date"],
        executing_agency_id=r["executing_agency"],
        next_window_at=r.get("next_window_at"),
    )


def deadline_rows(rows: list[dict]) -> list[DeadlineRow]:
    return msgspec.convert(rows, list[DeadlineRow], strict=False)
