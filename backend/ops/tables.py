"""Cross-cutting records: idempotent responses, rate-limit hits, messages the console SMS sender kept."""

from piccolo.columns import UUID, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.core.ids import uuid7


class IdempotencyRecord(Table, tablename="idempotency_records"):
    id = UUID(primary_key=True, default=uuid7)
    scoped_key = Varchar(length=200, unique=True)  # "<caller>:<Idempotency-Key>"
    request_hash = Varchar(length=64)
    status_code = Integer(null=True, default=None)  # null while the first request is in flight
    claim_token = Varchar(length=36, null=True, default=None)  # which attempt holds the key
    claimed_at = Timestamptz(null=True, default=None)  # the claim's lease runs from here
    applied_at = Timestamptz(null=True, default=None)  # its state change committed
    content_type = Varchar(length=100, null=True, default=None)
    response_body = Bytea(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class RateHit(Table, tablename="rate_hits"):
    id = UUID(primary_key=True, default=uuid7)
    bucket = Varchar(length=64)
    key = Varchar(length=100, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class SmsMessage(Table, tablename="sms_messages"):
    """Every SMS the platform sent or would have sent, with its delivery status."""

    id = UUID(primary_key=True, default=uuid7)
    to = Varchar(length=20, index=True)
    body = Text()
    sender = Varchar(length=16)  # console | twilio
    status = Varchar(length=16)  # recorded | sent | failed
    provider_id = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SchedulerLease(Table, tablename="scheduler_leases"):
    """Which scheduler runs the jobs (backend.ops.lease): one row per lease, taken or renewed atomically."""

    name = Varchar(length=64, primary_key=True)
    holder = Varchar(length=200)  # host:pid:random of the scheduler process holding it
    expires_at = Timestamptz(default=TimestamptzNow())
