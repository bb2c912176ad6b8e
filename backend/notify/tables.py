"""The notification outbox (SMS and in-app inbox) with delivery state."""

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.core.ids import uuid7


class Notification(Table, tablename="notifications"):
    id = UUID(primary_key=True, default=uuid7)
    user = ForeignKey(User, index=True)
    kind = Varchar(length=48)
    channel = Varchar(length=8)  # sms | inbox
    urgent = Boolean(default=False)
    # Unique: the same reminder is never queued twice, even if a job runs again after a restart.
    dedupe_key = Varchar(length=200, unique=True)
    title = Varchar(length=200)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    not_before = Timestamptz(index=True)  # quiet hours push non-urgent messages to the morning
    # pending | sending (claimed by a deliverer; not_before is then its lease) | sent | failed
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    sent_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)  # inbox only
