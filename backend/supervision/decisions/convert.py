"""Decision and request rows to response bodies."""

from __future__ import annotations

import msgspec

from backend.db.json import loaded
from backend.supervision.decisions import schemas as s


def contest_out(c) -> s.ContestOut:
    files = msgspec.convert(loaded(c.attachments, []), list[s.AttachmentOut], strict=False)
    return s.ContestOut(c.id, c.entry, c.status, c.text, files, c.decision_note)


def travel_out(t) -> s.TravelOut:
    return s.TravelOut(t.id, t.depart_on, t.return_on, t.destination, t.reason, t.status, t.decision_note)


def transfer_out(t) -> s.TransferOut:
    return s.TransferOut(t.id, t.measure, t.from_agency, t.to_agency, t.to_stage, t.status, t.note)


def summons_out(x) -> s.SummonsOut:
    return s.SummonsOut(x.id, x.measure, x.at, x.place, x.purpose, x.status)
