"""Contests, travel requests, stage transfers and summonses."""

from piccolo.columns import (
    JSON,
    UUID,
    Date,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Agency
from backend.core.ids import uuid7
from backend.supervision.ledger.tables import LedgerEntry
from backend.supervision.measures.tables import Measure


class Contest(Table, tablename="contests"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    entry = ForeignKey(LedgerEntry)
    text = Text()
    attachments = JSON(default="[]")  # [{name, sha256, size}]
    status = Varchar(length=16, default="pending")  # pending | upheld | rejected
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=40, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")


class TravelRequest(Table, tablename="travel_requests"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    depart_on = Date()
    return_on = Date()
    destination = Varchar(length=200)
    # Where the person may be while away (GeoJSON geometry); widens the allowed area for those dates.
    destination_area = JSON(default="null")
    reason = Text()
    status = Varchar(length=16, default="pending")  # pending | approved | denied
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=40, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")


class Transfer(Table, tablename="transfers"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    from_agency = ForeignKey(Agency)
    to_agency = ForeignKey(Agency, index=True)
    to_stage = Varchar(length=16)
    note = Text(default="")
    status = Varchar(length=16, default="pending")  # pending | accepted | declined
    requested_by = Varchar(length=40)
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=40, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class Summons(Table, tablename="summonses"):
    """A summons to appear (CPL arts. 71, 77): reminded ahead, and its outcome recorded by an officer."""

    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    at = Timestamptz(index=True)
    place = Varchar(length=200)
    purpose = Text(default="")
    status = Varchar(length=16, default="scheduled")  # scheduled | attended | missed | cancelled
    created_by = Varchar(length=40)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=40, null=True, default=None)
    note = Text(default="")
