"""A measure's whole history in one list, newest first: ledger, check-ins, fence events, the notice
acknowledgement, zone changes, travel, contests and transfers.

Paged on the key (at, source, id): each source is asked only for rows beyond the cursor's key, at most a
page and one each, and the merge keeps the first page and one of the lot, so no page reads a whole history."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from backend.core.clock import as_utc
from backend.core.errors import InvalidInput
from backend.core.ids import parse_int_id
from backend.core.pagination import Page, check_limit, decode_keys, encode_keys
from backend.db.json import loaded
from backend.supervision.checkins.tables import Checkin
from backend.supervision.decisions.tables import Contest, Transfer, TravelRequest
from backend.supervision.fences.tables import FenceEvent, FenceZone
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.tables import NoticeAck


@dataclass
class Item:
    at: datetime
    kind: str
    summary: str
    ref_id: str
    key: tuple  # (at, source, id): the list's order and the cursor


@dataclass
class Source:
    table: type
    at: object  # the column that dates a row
    describe: Callable[[object], tuple[str, str]]  # row -> (kind, summary)


SOURCES = [
    Source(
        LedgerEntry,
        LedgerEntry.at,
        lambda e: (f"ledger.{e.event}", f"{e.points:+d} -> {e.score_after} ({e.reason})"),
    ),
    # reasons is a JSON list piccolo hands back as text: joined as it came, it read letter by letter.
    Source(
        Checkin,
        Checkin.received_at,
        lambda c: (f"checkin.{c.outcome}", ", ".join(loaded(c.reasons, [])) or c.outcome),
    ),
    Source(
        FenceEvent,
        FenceEvent.at,
        lambda e: (f"fence.{e.kind}", " ".join(p for p in (e.zone_id, e.severity, e.reason) if p) or e.kind),
    ),
    Source(
        NoticeAck,
        NoticeAck.acknowledged_at,
        lambda a: ("notice.acknowledged", f"notice {a.notice_version} ({a.language})"),
    ),
    Source(
        TravelRequest,
        TravelRequest.created_at,
        lambda t: (f"travel.{t.status}", f"{t.destination} {t.depart_on}..{t.return_on}"),
    ),
    Source(Contest, Contest.created_at, lambda c: (f"contest.{c.status}", c.text[:200])),
    Source(Transfer, Transfer.requested_at, lambda t: (f"transfer.{t.status}", f"to stage {t.to_stage}")),
]
ZONES = len(SOURCES)  # the source number of zone drawings, built from their rows below


async def timeline(measure_id: object, cursor: str | None, limit: int) -> Page[Item]:
    limit = check_limit(limit)
    after = _decode(cursor)
    items: list[Item] = []
    for number, source in enumerate(SOURCES):
        items += await _read(source, number, measure_id, after, limit + 1)
    items += [i for i in await _zone_changes(measure_id) if after is None or i.key < after]
    items.sort(key=lambda i: i.key, reverse=True)
    more, items = len(items) > limit, items[:limit]
    return Page(items, encode_keys(*items[-1].key) if more and items else None)


def _decode(cursor: str | None) -> tuple | None:
    key = decode_keys(cursor, datetime.fromisoformat, int, str)
    if key is None:
        return None
    at, number, ref = key
    if not 0 <= number <= ZONES:
        raise InvalidInput("cursor", "not a cursor of this list")
    try:
        ref_id = int(ref) if number == 0 else uuid.UUID(ref)
    except ValueError:
        ref_id = None
    if ref_id is None or (number == 0 and parse_int_id(ref_id) is None):  # 64 bits, as the column holds
        raise InvalidInput("cursor", "not a cursor of this list")
    return (at, number, ref_id)


async def _read(source: Source, number: int, measure_id: object, after: tuple | None, n: int) -> list[Item]:
    table, at = source.table, source.at
    query = table.objects().where(table.measure == measure_id)
    if after is not None:
        c_at, c_number, c_id = after
        if number > c_number:  # later in the order at the same instant: only earlier instants remain
            query = query.where(at < c_at)
        elif number < c_number:
            query = query.where(at <= c_at)
        else:
            query = query.where((at < c_at) | ((at == c_at) & (table.id < c_id)))
    rows = await query.order_by(at, table.id, ascending=False).limit(n)
    items = []
    for row in rows:
        when = as_utc(getattr(row, at._meta.name))
        kind, summary = source.describe(row)
        items.append(Item(when, kind, summary, str(row.id), (when, number, row.id)))
    return items


async def _zone_changes(measure_id: object) -> list[Item]:
    """One item per drawing the officer saved: its zones share one created_at (zones.set_zones)."""
    drawings: dict[datetime, list[FenceZone]] = {}
    query = FenceZone.objects().where(FenceZone.measure == measure_id)
    for z in await query.order_by(FenceZone.created_at, FenceZone.id):
        drawings.setdefault(as_utc(z.created_at), []).append(z)
    items = []
    for at, zones in drawings.items():
        roles = sorted((loaded(z.feature, {}).get("properties") or {}).get("role", "zone") for z in zones)
        summary = f"{len(zones)} zone(s): {', '.join(roles)}"
        items.append(Item(at, "zones.replaced", summary, str(zones[0].id), (at, ZONES, zones[0].id)))
    return items
