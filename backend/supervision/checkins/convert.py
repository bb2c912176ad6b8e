"""Check-in rows to response bodies."""

from __future__ import annotations

from backend import i18n
from backend.db.json import loaded
from backend.supervision.checkins import schemas as s


def window_out(w) -> s.WindowOut:
    return s.WindowOut(w.id, w.kind, w.opens_at, w.closes_at, w.grace_until, w.status)


def checkin_out(c, language: str = i18n.DEFAULT_LANGUAGE) -> s.CheckinOut:
    reasons = list(loaded(c.reasons, []))
    return s.CheckinOut(
        c.id,
        c.outcome,
        reasons,
        c.window,
        c.captured_at,
        c.received_at,
        c.offline,
        c.receipt,
        i18n.reason_texts(reasons, language),
    )
