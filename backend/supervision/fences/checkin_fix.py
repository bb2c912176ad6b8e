"""A check-in's single fix judged against the measure's fences: it can only raise doubt (the location stream
confirms breaches); scheduled zones such as curfews are left to the stream."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

import geofence
from backend.supervision.fences.compiled import fences_for
from backend.supervision.fences.uploads import SETTINGS
from backend.supervision.measures.tables import Measure
from geofence.classify import IN, OUT, classify


async def checkin_doubts(measure: Measure, sub) -> list[str]:
    """A check-in's single fix against the measure's fences (the location stream confirms breaches; one fix
    can only raise doubt). Scheduled zones such as curfews are left to the stream."""
    if sub.latitude is None or sub.longitude is None:
        return []
    day = sub.captured_at.astimezone(ZoneInfo(measure.timezone)).date()
    compiled = await fences_for(measure, day)
    zones = compiled.unscheduled
    if not zones:
        return []
    n = len(zones)
    radius = max(SETTINGS.accuracy_floor_m, (sub.accuracy_m or 0.0) * SETTINGS.accuracy_scale)
    verdicts = classify(
        compiled.table,
        np.arange(n),
        np.full(n, sub.longitude),
        np.full(n, sub.latitude),
        np.full(n, radius),
        np.array([z.margin_m for z in zones]),
    )
    doubts = []
    if any(v == OUT for z, v in zip(zones, verdicts, strict=True) if z.role == geofence.Role.ALLOWED):
        doubts.append("outside_allowed_area")
    if any(v == IN for z, v in zip(zones, verdicts, strict=True) if z.role == geofence.Role.FORBIDDEN):
        doubts.append("in_forbidden_place")
    return doubts
