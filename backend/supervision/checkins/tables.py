"""Check-in windows and the check-ins that answer them."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Float,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.ids import uuid7
from backend.supervision.measures.tables import Device, Measure


class CheckinWindow(Table, tablename="checkin_windows"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    kind = Varchar(length=16)  # scheduled | random
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    # Late offline submissions are accepted until then; the missed-window sweep looks only at this.
    grace_until = Timestamptz(index=True)
    status = Varchar(length=16, default="open", index=True)  # open | done | missed | excused
    created_by = Varchar(length=40, default="rule")
    reminded_at = Timestamptz(null=True, default=None)


class Checkin(Table, tablename="checkins"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    window = ForeignKey(CheckinWindow, null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
    captured_at = Timestamptz()
    latitude = Float(null=True, default=None)
    longitude = Float(null=True, default=None)
    accuracy_m = Float(null=True, default=None)
    fix_time = Timestamptz(null=True, default=None)
    mock_location = Boolean(default=False)
    offline = Boolean(default=False)
    device = ForeignKey(Device, null=True, default=None)
    outcome = Varchar(length=24)  # accepted | doubtful | rejected | technical_failure
    reasons = JSON(default="[]")
    face_similarity = Float(null=True, default=None)
    face_liveness = Float(null=True, default=None)
    receipt = Text()  # the signed receipt as handed to the phone
