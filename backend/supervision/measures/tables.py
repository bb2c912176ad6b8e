"""Measures, their obligations, notice acknowledgements and the person's devices."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Agency, User
from backend.core.ids import uuid7


class Measure(Table, tablename="measures"):
    id = UUID(primary_key=True, default=uuid7)
    person = ForeignKey(User, index=True)
    kind = Varchar(length=32)  # bail | residential_surveillance | community_correction
    legal_basis = Text()
    deciding_agency = ForeignKey(Agency)
    # The agency that supervises now: owner for access checks; changes on an accepted transfer.
    executing_agency = ForeignKey(Agency, index=True)
    stage = Varchar(length=16)  # investigation | prosecution | trial | execution | correction
    start_date = Date()
    end_date = Date(index=True)
    timezone = Varchar(length=64, default="Asia/Shanghai")
    status = Varchar(length=16, default="active", index=True)  # active | ended
    score = Integer(default=100)
    code = Varchar(length=8, default="green", index=True)
    # Start of the current run of compliant days (reset by every deduction), for the +5 per 30 days rule.
    compliant_since = Timestamptz(default=TimestamptzNow())
    last_activity_at = Timestamptz(default=TimestamptzNow(), index=True)
    notice_acknowledged_at = Timestamptz(null=True, default=None)
    checkin_plan = JSON(default="{}")
    grace_minutes = Integer(default=120)
    # Bumped whenever the fences change (zones replaced, a trip approved): keys the compiled-fence cache.
    fences_version = Integer(default=0)
    created_by = Varchar(length=40)
    created_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)


class Obligation(Table, tablename="obligations"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    code = Varchar(length=48)  # e.g. stay_in_area, report_address_change, forbidden_place, no_contact
    statutory = Boolean(default=True)
    text_en = Text()
    text_zh = Text()
    params = JSON(default="{}")


class NoticeAck(Table, tablename="notice_acks"):
    id = UUID(primary_key=True, default=uuid7)
    measure = ForeignKey(Measure, index=True)
    notice_version = Varchar(length=16)
    language = Varchar(length=8)
    text_sha256 = Varchar(length=64)
    device_id = Varchar(length=100)
    acknowledged_at = Timestamptz(default=TimestamptzNow())


class Device(Table, tablename="devices"):
    """A phone's Ed25519 key, registered at enrolment: it signs check-ins captured offline."""

    id = UUID(primary_key=True, default=uuid7)
    person = ForeignKey(User, index=True)
    public_key = Varchar(length=64)  # raw 32-byte key, base64url
    label = Varchar(length=100, default="")
    enrolled_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
