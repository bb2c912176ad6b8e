"""The console's view of a person's movements: fixes in pages and the fence events of a time range."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from backend.accounts.principal import Principal
from backend.core.errors import InvalidInput
from backend.core.pagination import page_of
from backend.supervision.fences.fix_times import check_track_range, track_position
from backend.supervision.fences.tables import FenceEvent, LocationFix
from backend.supervision.measures.services import require_staff_measure

TRACK_PAGE = 20_000  # fixes per page: a fix a minute for two weeks


@dataclasses.dataclass
class Track:
    fixes: list[dict]
    events: list[FenceEvent]  # every event in the range, on the first page only
    next_cursor: str | None  # the rest of the range's fixes, or None when this page ends it


async def track(
    principal: Principal,
    measure_id: str,
    start: datetime,
    end: datetime,
    cursor: str | None = None,
    limit: int = TRACK_PAGE,
) -> Track:
    """A person's fixes and fence events between start and end, fixes in pages (a phone sending a fix a
    minute makes 44,640 in 31 days): a page never ends the track silently."""
    measure = await require_staff_measure(principal, measure_id)
    check_track_range(start, end)
    if not 1 <= limit <= TRACK_PAGE:
        raise InvalidInput("limit", f"must be between 1 and {TRACK_PAGE}")
    query = (
        LocationFix.select(
            LocationFix.id,
            LocationFix.t,
            LocationFix.latitude,
            LocationFix.longitude,
            LocationFix.accuracy_m,
            LocationFix.flags,
        )
        .where((LocationFix.measure == measure.id) & (LocationFix.t >= start) & (LocationFix.t < end))
        .order_by(LocationFix.t, LocationFix.id)
        .limit(limit + 1)
    )
    if (after := track_position(cursor)) is not None:  # keyset on (t, id): fixes may share a time
        t, fix_id = after
        query = query.where((LocationFix.t > t) | ((LocationFix.t == t) & (LocationFix.id > fix_id)))
    page = page_of(await query, limit, lambda f: f"{f['t'].isoformat()}|{f['id']}")
    events = []
    if after is None:
        events = (
            await FenceEvent.objects()
            .where((FenceEvent.measure == measure.id) & (FenceEvent.at >= start) & (FenceEvent.at < end))
            .order_by(FenceEvent.at)
        )
    return Track(page.items, events, page.next_cursor)
