"""Exact duplicate fixes in a location upload, and a device sequence number sent again with other fixes.

A phone whose answer was lost may re-batch its outbox and send the same fixes under a new device_seq: a
fix of the same measure at the same instant with the same latitude, longitude and accuracy is stored once.
The check runs under the upload's lock on the measure row (SQLite: its single writer), so two such batches
sent at once store the fixes once. Coordinates are compared as stored: PostgreSQL keeps them as REAL
(float4), so both sides are rounded to float4 and the databases agree on what a duplicate is.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from backend.core.clock import as_utc
from backend.core.crypto import sha256_hex
from backend.supervision.fences import store


def _micros(t: datetime | str) -> int:
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return round(as_utc(t).timestamp() * 1_000_000)


def _f4(value: float | None) -> float | None:
    return None if value is None else float(np.float32(value))


def fix_key(t, lat, lon, accuracy) -> tuple:
    return (_micros(t), _f4(lat), _f4(lon), _f4(accuracy))


def batch_hash(batch) -> str:
    """The batch's content (a geofence.FixBatch, sorted), what a retry must repeat: its columns' bytes, as
    cheap to hash as anything (100 fixes in microseconds; the upload is the platform's hottest path)."""
    columns = (batch.t, batch.lat, batch.lon, batch.accuracy, batch.mock)
    return sha256_hex(b"".join(c.tobytes() for c in columns))


def distinct(fixes: list[dict]) -> list[int]:
    """Positions of the fixes that do not repeat an earlier fix of the same batch."""
    seen: set[tuple] = set()
    keep = []
    for i, f in enumerate(fixes):
        key = (f["t"], f["lat"], f["lon"], f["accuracy_m"])  # exact repeats: the raw values are equal
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return keep


async def stored_keys(measure_id: object, fixes: list[dict]) -> set[tuple]:
    """Keys of the measure's stored fixes within the batch's time span (fixes sorted by time). A phone's
    batches follow each other, so this range read on (measure, t) usually finds nothing."""
    rows = await store.fixes_between(measure_id, fixes[0]["t"], fixes[-1]["t"])
    return {fix_key(r["t"], r["latitude"], r["longitude"], r["accuracy_m"]) for r in rows}
