"""Zones, location batches and fixes, each measure's fence state and its events."""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.ids import uuid7
from backend.supervision.measures.tables import Measure


class FenceZone(Table, tablename="fence_zones"):
    """A measure's zone, stored as the GeoJSON Feature the officer drew (validated by geofence)."""

    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    feature = JSON()
    # SHA-256 of the feature without its id: persons sharing a county share one compiled shape by this key.
    shape_key = Varchar(length=64, null=True, default=None)
    active = Boolean(default=True)
    created_by = Varchar(length=40)
    created_at = Timestamptz(default=TimestamptzNow())


class LocationBatch(Table, tablename="location_batches"):
    """One upload from the phone; (measure, device_seq) is unique so a retried upload changes nothing."""

    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    scoped_seq = Varchar(length=80, unique=True)  # "<measure>:<device_seq>"
    received_at = Timestamptz(default=TimestamptzNow())
    fixes = Integer()
    # SHA-256 of the batch's fixes: the same device_seq with other fixes is refused, not replayed.
    fixes_hash = Varchar(length=64, default="")
    result = JSON(default="{}")


class LocationFix(Table, tablename="location_fixes"):
    id = BigSerial(primary_key=True)
    # One index on (measure, t) serves the track query (migration 2026-11-22T15:56:55); two separate ones
    # cost twice the upkeep on the busiest insert.
    measure = ForeignKey(Measure)
    t = Timestamptz()
    latitude = Float(null=True, default=None)
    longitude = Float(null=True, default=None)
    accuracy_m = Float(null=True, default=None)
    mock = Boolean(default=False)
    flags = Integer(default=0)  # geofence.Flag bits; 0 = accepted


class FenceState(Table, tablename="fence_states"):
    measure = ForeignKey(Measure, unique=True)
    state = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class FenceEvent(Table, tablename="fence_events"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    kind = Varchar(length=32)
    at = Timestamptz(index=True)
    zone_id = Varchar(length=40, null=True, default=None)
    severity = Varchar(length=8, null=True, default=None)
    reason = Text(default="")
    fixes = JSON(default="[]")  # the fixes that prove it
    ledger_entry = BigInt(null=True, default=None)
