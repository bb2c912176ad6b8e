"""Officers' tasks and the alerts that reach their consoles."""

from piccolo.columns import (
    UUID,
    Boolean,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Agency
from backend.core.ids import uuid7
from backend.supervision.measures.tables import Measure


class Task(Table, tablename="tasks"):
    """Work for officers: reviews, video verifications, decisions on contests, travel and transfers."""

    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    agency = ForeignKey(Agency, index=True)
    kind = Varchar(length=32)  # review | review_measure | video_verification | contest | travel | transfer
    status = Varchar(length=16, default="open", index=True)  # open | done
    urgent = Boolean(default=False)
    summary = Text()
    ref_type = Varchar(length=32, null=True, default=None)
    ref_id = Varchar(length=40, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=40, null=True, default=None)
    resolution = Text(default="")


class Alert(Table, tablename="alerts"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    agency = ForeignKey(Agency, index=True)
    level = Varchar(length=8)  # red
    message = Text()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)  # the live feed tails by this
    acknowledged_by = Varchar(length=40, null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
