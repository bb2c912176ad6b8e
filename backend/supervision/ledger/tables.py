"""The score ledger, the scoring rules and each agency's policy (thresholds, handling plan)."""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Agency
from backend.core.ids import uuid7
from backend.supervision.measures.tables import Measure


class ScoreRule(Table, tablename="score_rules"):
    """Versioned scoring rules; agency NULL = platform default, an agency row overrides it."""

    id = UUID(primary_key=True, default=uuid7)
    agency = ForeignKey(Agency, null=True, default=None, index=True)
    rule_id = Varchar(length=48)
    version = Integer(default=1)
    points = Integer()
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class AgencyPolicy(Table, tablename="agency_policies"):
    agency = ForeignKey(Agency, unique=True)
    green_min = Integer(default=80)
    yellow_min = Integer(default=60)
    quiet_start_hour = Integer(default=22)
    quiet_end_hour = Integer(default=7)
    inactivity_days = Integer(default=14)
    # A phone silent this long opens an officer task and tells the person (supervision.signal_loss_tasks).
    signal_loss_task_seconds = Integer(default=7200)
    # Privacy by default: raw face photos are not kept unless the agency turns this on.
    keep_face_images = Boolean(default=False)
    # The agency's handling plan (backend.supervision.handling.plans); {} = the defaults.
    handling_plan = JSON(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class LedgerEntry(Table, tablename="ledger_entries"):
    id = BigSerial(primary_key=True)
    measure = ForeignKey(Measure, index=True)
    at = Timestamptz(default=TimestamptzNow())
    event = Varchar(length=48)
    points = Integer()
    rule_id = Varchar(length=48, null=True, default=None)
    rule_version = Integer(null=True, default=None)
    reason = Text()
    decided_by = Varchar(length=40)  # "rule" or the officer's user id
    evidence_type = Varchar(length=32, null=True, default=None)
    evidence_id = Varchar(length=40, null=True, default=None)
    score_after = Integer()
    code_after = Varchar(length=8)
    status = Varchar(length=16, default="active")  # active | excused | overturned
    # For an excuse or an upheld contest: the entry it reverses.
    reverses = BigInt(null=True, default=None)
