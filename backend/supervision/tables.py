"""The supervision record: measures, obligations, check-ins, the score ledger and what hangs off them."""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    Float,
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
    # The agency's handling plan (backend.supervision.handling_plans); {} = the defaults.
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
