"""The schema as the tables declare it on 2026-12-02, plus what piccolo cannot declare.

Squashed from the 19 migrations of 2026-11-22 .. 2026-12-02 (issue 15). It carries the ID of the newest of
them, so a database that ran that chain has it recorded and skips it; a new database runs this alone.
From here on a migration is a real delta with a description and a way back (piccolo runs a manager in
reverse for `piccolo migrations backwards`; raw steps name their reverse with `add_raw_backwards`).

The tables (TABLES) are written as piccolo's `migrations new --auto` generated them, each column giving only
the parameters that differ from BASE; `tests/integration/db/test_migrations.py` checks that --auto still
finds nothing to add. After the tables, in the same transaction, the raw SQL of AFTER_TABLES.

Defaults that are callables (uuid7) are evaluated once when the table is created and stored as that
literal value: the app always supplies ids, as the old chain's databases already required.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Date,
    Float,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.core.ids import uuid7

ID = "2026-12-02T00:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "initial schema: 37 tables, composite indexes, PostgreSQL audit seal (squashed chain)"


# The tables foreign keys point at, as piccolo needs them to name the referenced primary key.
class Agency(Table, tablename="agencies"):
    id = UUID(primary_key=True, default=uuid7)


class AuthSession(Table, tablename="auth_sessions"):
    id = UUID(primary_key=True, default=uuid7)


class CheckinWindow(Table, tablename="checkin_windows"):
    id = UUID(primary_key=True, default=uuid7)


class Device(Table, tablename="devices"):
    id = UUID(primary_key=True, default=uuid7)


class LedgerEntry(Table, tablename="ledger_entries"):
    id = BigSerial(primary_key=True)


class Measure(Table, tablename="measures"):
    id = UUID(primary_key=True, default=uuid7)


class User(Table, tablename="users"):
    id = UUID(primary_key=True, default=uuid7)


# What every column has unless its entry says otherwise (a foreign key: cascade both ways, to the key).
BASE = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}
FOREIGN_KEY_BASE = BASE | {
    "on_delete": OnDelete.cascade,
    "on_update": OnUpdate.cascade,
    "target_column": None,
}

# (class name, table name, [(column, column class, parameters other than BASE)])
TABLES = [
    (
        "AccessGrant",
        "access_grants",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("object_type", Varchar, dict(length=40, default="")),
            ("object_id", Varchar, dict(length=40, default="", index=True)),
            ("agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("granted_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "Agency",
        "agencies",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("kind", Varchar, dict(length=32, default="")),
            ("name", Varchar, dict(length=200, default="")),
            ("region_code", Varchar, dict(length=12, default="", index=True)),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "AgencyPolicy",
        "agency_policies",
        [
            ("agency", ForeignKey, dict(references=Agency, null=True, unique=True)),
            ("green_min", Integer, dict(default=80)),
            ("yellow_min", Integer, dict(default=60)),
            ("quiet_start_hour", Integer, dict(default=22)),
            ("quiet_end_hour", Integer, dict(default=7)),
            ("inactivity_days", Integer, dict(default=14)),
            ("signal_loss_task_seconds", Integer, dict(default=7200)),
            ("keep_face_images", Boolean, dict(default=False)),
            ("handling_plan", JSON, dict(default="{}")),
            ("updated_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "Alert",
        "alerts",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("level", Varchar, dict(length=8, default="")),
            ("message", Text, dict(default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
            ("acknowledged_by", Varchar, dict(length=40, default=None, null=True)),
            ("acknowledged_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "AuditEntry",
        "audit_entries",
        [
            ("seq", BigInt, dict(default=0, primary_key=True)),
            ("at", Timestamptz, dict(default=TimestamptzNow())),
            ("actor_id", Varchar, dict(length=40, default="")),
            ("actor_role", Varchar, dict(length=32, default="")),
            ("action", Varchar, dict(length=64, default="", index=True)),
            ("object_type", Varchar, dict(length=40, default="")),
            ("object_id", Varchar, dict(length=64, default="", index=True)),
            ("agency_id", Varchar, dict(length=40, default=None, null=True, index=True)),
            ("request_id", Varchar, dict(length=64, default=None, null=True)),
            ("change_digest", Varchar, dict(length=64, default="")),
            ("body_hash", Varchar, dict(length=64, default=None, null=True)),
            ("prev_hash", Varchar, dict(length=64, default="")),
            ("row_hash", Varchar, dict(length=64, default="")),
        ],
    ),
    (
        "AuditHead",
        "audit_head",
        [
            ("id", Integer, dict(default=0, primary_key=True)),
            ("last_seq", BigInt, dict(default=0)),
            ("last_hash", Varchar, dict(length=64, default="")),
        ],
    ),
    (
        "AuthSession",
        "auth_sessions",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("user", ForeignKey, dict(references=User, null=True, index=True)),
            ("channel", Varchar, dict(length=16, default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("last_seen_at", Timestamptz, dict(default=TimestamptzNow())),
            ("expires_at", Timestamptz, dict(default=TimestamptzNow())),
            ("revoked_at", Timestamptz, dict(default=None, null=True)),
            ("revoked_reason", Varchar, dict(length=64, default=None, null=True)),
            ("client_address", Varchar, dict(length=64, default=None, null=True)),
            ("user_agent", Varchar, dict(length=300, default=None, null=True)),
        ],
    ),
    (
        "CheckinWindow",
        "checkin_windows",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("kind", Varchar, dict(length=16, default="")),
            ("opens_at", Timestamptz, dict(default=TimestamptzNow())),
            ("closes_at", Timestamptz, dict(default=TimestamptzNow())),
            ("grace_until", Timestamptz, dict(default=TimestamptzNow(), index=True)),
            ("status", Varchar, dict(length=16, default="open", index=True)),
            ("created_by", Varchar, dict(length=40, default="rule")),
            ("reminded_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "Checkin",
        "checkins",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("window", ForeignKey, dict(references=CheckinWindow, null=True)),
            ("received_at", Timestamptz, dict(default=TimestamptzNow())),
            ("captured_at", Timestamptz, dict(default=TimestamptzNow())),
            ("latitude", Float, dict(default=None, null=True)),
            ("longitude", Float, dict(default=None, null=True)),
            ("accuracy_m", Float, dict(default=None, null=True)),
            ("fix_time", Timestamptz, dict(default=None, null=True)),
            ("mock_location", Boolean, dict(default=False)),
            ("offline", Boolean, dict(default=False)),
            ("device", ForeignKey, dict(references=Device, null=True)),
            ("outcome", Varchar, dict(length=24, default="")),
            ("reasons", JSON, dict(default="[]")),
            ("face_similarity", Float, dict(default=None, null=True)),
            ("face_liveness", Float, dict(default=None, null=True)),
            ("receipt", Text, dict(default="")),
        ],
    ),
    (
        "Contest",
        "contests",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("entry", ForeignKey, dict(references=LedgerEntry, null=True)),
            ("text", Text, dict(default="")),
            ("attachments", JSON, dict(default="[]")),
            ("status", Varchar, dict(length=16, default="pending")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("decided_by", Varchar, dict(length=40, default=None, null=True)),
            ("decided_at", Timestamptz, dict(default=None, null=True)),
            ("decision_note", Text, dict(default="")),
        ],
    ),
    (
        "Device",
        "devices",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("person", ForeignKey, dict(references=User, null=True, index=True)),
            ("public_key", Varchar, dict(length=64, default="")),
            ("label", Varchar, dict(length=100, default="")),
            ("enrolled_at", Timestamptz, dict(default=TimestamptzNow())),
            ("revoked_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "FaceAttempt",
        "face_attempts",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("person", ForeignKey, dict(references=User, null=True, index=True)),
            ("at", Timestamptz, dict(default=TimestamptzNow())),
            ("purpose", Varchar, dict(length=16, default="")),
            ("outcome", Varchar, dict(length=24, default="")),
            ("similarity", Float, dict(default=None, null=True)),
            ("liveness", Float, dict(default=None, null=True)),
            ("record", JSON, dict(default="{}")),
            ("image_sha256", Varchar, dict(length=64, default=None, null=True)),
            ("image_kept", Boolean, dict(default=False)),
        ],
    ),
    (
        "FaceTemplateRecord",
        "face_templates",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("person", ForeignKey, dict(references=User, null=True, unique=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("sealed", Bytea, dict(default=b"")),
            ("model", Varchar, dict(length=100, default="")),
            ("enrolled_by", Varchar, dict(length=40, default="")),
            ("enrolled_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "FenceEvent",
        "fence_events",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("kind", Varchar, dict(length=32, default="")),
            ("at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
            ("zone_id", Varchar, dict(length=40, default=None, null=True)),
            ("severity", Varchar, dict(length=8, default=None, null=True)),
            ("reason", Text, dict(default="")),
            ("fixes", JSON, dict(default="[]")),
            ("ledger_entry", BigInt, dict(default=None, null=True)),
        ],
    ),
    (
        "FenceState",
        "fence_states",
        [
            ("measure", ForeignKey, dict(references=Measure, null=True, unique=True)),
            ("state", JSON, dict(default="{}")),
            ("updated_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "FenceZone",
        "fence_zones",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("feature", JSON, dict(default="{}")),
            ("shape_key", Varchar, dict(length=64, default=None, null=True)),
            ("active", Boolean, dict(default=True)),
            ("created_by", Varchar, dict(length=40, default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "IdempotencyRecord",
        "idempotency_records",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("scoped_key", Varchar, dict(length=200, default="", unique=True)),
            ("request_hash", Varchar, dict(length=64, default="")),
            ("status_code", Integer, dict(default=None, null=True)),
            ("claim_token", Varchar, dict(length=36, default=None, null=True)),
            ("claimed_at", Timestamptz, dict(default=None, null=True)),
            ("applied_at", Timestamptz, dict(default=None, null=True)),
            ("content_type", Varchar, dict(length=100, default=None, null=True)),
            ("response_body", Bytea, dict(default=None, null=True)),
            ("created_at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
        ],
    ),
    (
        "LedgerEntry",
        "ledger_entries",
        [
            ("id", BigSerial, dict(primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("at", Timestamptz, dict(default=TimestamptzNow())),
            ("event", Varchar, dict(length=48, default="")),
            ("points", Integer, dict(default=0)),
            ("rule_id", Varchar, dict(length=48, default=None, null=True)),
            ("rule_version", Integer, dict(default=None, null=True)),
            ("reason", Text, dict(default="")),
            ("decided_by", Varchar, dict(length=40, default="")),
            ("evidence_type", Varchar, dict(length=32, default=None, null=True)),
            ("evidence_id", Varchar, dict(length=40, default=None, null=True)),
            ("score_after", Integer, dict(default=0)),
            ("code_after", Varchar, dict(length=8, default="")),
            ("status", Varchar, dict(length=16, default="active")),
            ("reverses", BigInt, dict(default=None, null=True)),
        ],
    ),
    (
        "LiveTicket",
        "live_tickets",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("ticket_hash", Varchar, dict(length=64, default="", unique=True)),
            ("session", UUID, dict(default=UUID4(), index=True)),
            ("expires_at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
        ],
    ),
    (
        "LocationBatch",
        "location_batches",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("scoped_seq", Varchar, dict(length=80, default="", unique=True)),
            ("received_at", Timestamptz, dict(default=TimestamptzNow())),
            ("fixes", Integer, dict(default=0)),
            ("fixes_hash", Varchar, dict(length=64, default="")),
            ("result", JSON, dict(default="{}")),
        ],
    ),
    (
        "LocationFix",
        "location_fixes",
        [
            ("id", BigSerial, dict(primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True)),
            ("t", Timestamptz, dict(default=TimestamptzNow())),
            ("latitude", Float, dict(default=None, null=True)),
            ("longitude", Float, dict(default=None, null=True)),
            ("accuracy_m", Float, dict(default=None, null=True)),
            ("mock", Boolean, dict(default=False)),
            ("flags", Integer, dict(default=0)),
        ],
    ),
    (
        "LoginGuard",
        "login_guards",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("subject", Varchar, dict(length=100, default="", unique=True)),
            ("failures", Integer, dict(default=0)),
            ("lockouts", Integer, dict(default=0)),
            ("locked_until", Timestamptz, dict(default=None, null=True)),
            ("updated_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "Measure",
        "measures",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("person", ForeignKey, dict(references=User, null=True, index=True)),
            ("kind", Varchar, dict(length=32, default="")),
            ("legal_basis", Text, dict(default="")),
            ("deciding_agency", ForeignKey, dict(references=Agency, null=True)),
            ("executing_agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("stage", Varchar, dict(length=16, default="")),
            ("start_date", Date, dict(default=DateNow())),
            ("end_date", Date, dict(default=DateNow(), index=True)),
            ("timezone", Varchar, dict(length=64, default="Asia/Shanghai")),
            ("status", Varchar, dict(length=16, default="active", index=True)),
            ("score", Integer, dict(default=100)),
            ("code", Varchar, dict(length=8, default="green", index=True)),
            ("compliant_since", Timestamptz, dict(default=TimestamptzNow())),
            ("last_activity_at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
            ("notice_acknowledged_at", Timestamptz, dict(default=None, null=True)),
            ("checkin_plan", JSON, dict(default="{}")),
            ("grace_minutes", Integer, dict(default=120)),
            ("fences_version", Integer, dict(default=0)),
            ("created_by", Varchar, dict(length=40, default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("ended_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "NoticeAck",
        "notice_acks",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("notice_version", Varchar, dict(length=16, default="")),
            ("language", Varchar, dict(length=8, default="")),
            ("text_sha256", Varchar, dict(length=64, default="")),
            ("device_id", Varchar, dict(length=100, default="")),
            ("acknowledged_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "Notification",
        "notifications",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("user", ForeignKey, dict(references=User, null=True, index=True)),
            ("kind", Varchar, dict(length=48, default="")),
            ("channel", Varchar, dict(length=8, default="")),
            ("urgent", Boolean, dict(default=False)),
            ("dedupe_key", Varchar, dict(length=200, default="", unique=True)),
            ("title", Varchar, dict(length=200, default="")),
            ("body", Text, dict(default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("not_before", Timestamptz, dict(default=TimestamptzNow(), index=True)),
            ("status", Varchar, dict(length=16, default="pending", index=True)),
            ("attempts", Integer, dict(default=0)),
            ("last_error", Text, dict(default="")),
            ("sent_at", Timestamptz, dict(default=None, null=True)),
            ("read_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "Obligation",
        "obligations",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("code", Varchar, dict(length=48, default="")),
            ("statutory", Boolean, dict(default=True)),
            ("text_en", Text, dict(default="")),
            ("text_zh", Text, dict(default="")),
            ("params", JSON, dict(default="{}")),
        ],
    ),
    (
        "OtpCode",
        "otp_codes",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("phone", Varchar, dict(length=20, default="", index=True)),
            ("code_hash", Varchar, dict(length=64, default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("expires_at", Timestamptz, dict(default=TimestamptzNow())),
            ("consumed_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "RateHit",
        "rate_hits",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("bucket", Varchar, dict(length=64, default="")),
            ("key", Varchar, dict(length=100, default="", index=True)),
            ("at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
        ],
    ),
    (
        "RefreshToken",
        "refresh_tokens",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("session", ForeignKey, dict(references=AuthSession, null=True, index=True)),
            ("token_hash", Varchar, dict(length=64, default="", unique=True)),
            ("issued_at", Timestamptz, dict(default=TimestamptzNow())),
            ("expires_at", Timestamptz, dict(default=TimestamptzNow())),
            ("used_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "SchedulerLease",
        "scheduler_leases",
        [
            ("name", Varchar, dict(length=64, default="", primary_key=True)),
            ("holder", Varchar, dict(length=200, default="")),
            ("expires_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "ScoreRule",
        "score_rules",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("rule_id", Varchar, dict(length=48, default="")),
            ("version", Integer, dict(default=1)),
            ("points", Integer, dict(default=0)),
            ("active", Boolean, dict(default=True)),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "SmsMessage",
        "sms_messages",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("to", Varchar, dict(length=20, default="", index=True)),
            ("body", Text, dict(default="")),
            ("sender", Varchar, dict(length=16, default="")),
            ("status", Varchar, dict(length=16, default="")),
            ("provider_id", Varchar, dict(length=64, default=None, null=True)),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
        ],
    ),
    (
        "Summons",
        "summonses",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("at", Timestamptz, dict(default=TimestamptzNow(), index=True)),
            ("place", Varchar, dict(length=200, default="")),
            ("purpose", Text, dict(default="")),
            ("status", Varchar, dict(length=16, default="scheduled")),
            ("created_by", Varchar, dict(length=40, default="")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("decided_by", Varchar, dict(length=40, default=None, null=True)),
            ("note", Text, dict(default="")),
        ],
    ),
    (
        "Task",
        "tasks",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("kind", Varchar, dict(length=32, default="")),
            ("status", Varchar, dict(length=16, default="open", index=True)),
            ("urgent", Boolean, dict(default=False)),
            ("summary", Text, dict(default="")),
            ("ref_type", Varchar, dict(length=32, default=None, null=True)),
            ("ref_id", Varchar, dict(length=40, default=None, null=True)),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("closed_at", Timestamptz, dict(default=None, null=True)),
            ("closed_by", Varchar, dict(length=40, default=None, null=True)),
            ("resolution", Text, dict(default="")),
        ],
    ),
    (
        "Transfer",
        "transfers",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("from_agency", ForeignKey, dict(references=Agency, null=True)),
            ("to_agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("to_stage", Varchar, dict(length=16, default="")),
            ("note", Text, dict(default="")),
            ("status", Varchar, dict(length=16, default="pending")),
            ("requested_by", Varchar, dict(length=40, default="")),
            ("requested_at", Timestamptz, dict(default=TimestamptzNow())),
            ("decided_by", Varchar, dict(length=40, default=None, null=True)),
            ("decided_at", Timestamptz, dict(default=None, null=True)),
        ],
    ),
    (
        "TravelRequest",
        "travel_requests",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("measure", ForeignKey, dict(references=Measure, null=True, index=True)),
            ("depart_on", Date, dict(default=DateNow())),
            ("return_on", Date, dict(default=DateNow())),
            ("destination", Varchar, dict(length=200, default="")),
            ("destination_area", JSON, dict(default="null")),
            ("reason", Text, dict(default="")),
            ("status", Varchar, dict(length=16, default="pending")),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("decided_by", Varchar, dict(length=40, default=None, null=True)),
            ("decided_at", Timestamptz, dict(default=None, null=True)),
            ("decision_note", Text, dict(default="")),
        ],
    ),
    (
        "User",
        "users",
        [
            ("id", UUID, dict(default=uuid7, primary_key=True)),
            ("role", Varchar, dict(length=32, default="", index=True)),
            ("agency", ForeignKey, dict(references=Agency, null=True, index=True)),
            ("region_code", Varchar, dict(length=12, default=None, null=True, index=True)),
            ("display_name", Varchar, dict(length=200, default="")),
            ("phone", Varchar, dict(length=20, default=None, null=True, unique=True)),
            ("username", Varchar, dict(length=64, default=None, null=True, unique=True)),
            ("password_hash", Varchar, dict(length=200, default=None, null=True)),
            ("totp_secret", Bytea, dict(default=None, null=True)),
            ("totp_last_step", BigInt, dict(default=None, null=True)),
            ("active", Boolean, dict(default=True)),
            ("created_at", Timestamptz, dict(default=TimestamptzNow())),
            ("password_changed_at", Timestamptz, dict(default=None, null=True)),
            ("language", Varchar, dict(length=8, default=None, null=True)),
        ],
    ),
]


# Raw SQL the ORM cannot express, run after the tables in the same transaction.
COMPOSITE_INDEXES = (
    # A check-in finds the open window it answers without reading the person's other windows.
    "CREATE INDEX IF NOT EXISTS checkin_windows_measure_status_opens "
    "ON checkin_windows (measure, status, opens_at)",
    # The track reads by measure and time; one index, not one per column (each is upkeep on every upload).
    "CREATE INDEX IF NOT EXISTS location_fixes_measure_t ON location_fixes (measure, t)",
)

# PostgreSQL only: an audit row is inserted with a pending (negative) seq from audit_pending_seq, and a
# deferred constraint trigger gives it its place in the chain as the transaction commits, so the audit_head
# row lock every writer shares is held for the commit alone (backend.audit.services). row_hash is
# SHA-256 of "prev_hash:seq:body_hash". SQLite has one writer: the app links rows itself, no trigger.
AUDIT_SEAL = (
    "CREATE SEQUENCE IF NOT EXISTS audit_pending_seq",
    """CREATE OR REPLACE FUNCTION audit_seal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_seq bigint;
    prev text;
    sealed text;
BEGIN
    SELECT last_seq + 1, last_hash INTO next_seq, prev FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_head has no row 1';
    END IF;
    sealed := encode(sha256(convert_to(prev || ':' || next_seq || ':' || NEW.body_hash, 'UTF8')), 'hex');
    UPDATE audit_head SET last_seq = next_seq, last_hash = sealed WHERE id = 1;
    UPDATE audit_entries SET seq = next_seq, prev_hash = prev, row_hash = sealed WHERE seq = NEW.seq;
    RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS audit_seal ON audit_entries",
    "CREATE CONSTRAINT TRIGGER audit_seal AFTER INSERT ON audit_entries DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION audit_seal()",
)
AUDIT_SEAL_BACKWARDS = (
    "DROP TRIGGER IF EXISTS audit_seal ON audit_entries",
    "DROP FUNCTION IF EXISTS audit_seal()",
    "DROP SEQUENCE IF EXISTS audit_pending_seq",
)
COMPOSITE_INDEXES_BACKWARDS = (
    "DROP INDEX IF EXISTS checkin_windows_measure_status_opens",
    "DROP INDEX IF EXISTS location_fixes_measure_t",
)


class RawTable(Table):
    pass


def _is_postgres() -> bool:
    return isinstance(RawTable._meta.db, PostgresEngine)


def after_tables() -> tuple[str, ...]:
    return COMPOSITE_INDEXES + (AUDIT_SEAL if _is_postgres() else ())


def before_dropping_tables() -> tuple[str, ...]:
    return (AUDIT_SEAL_BACKWARDS if _is_postgres() else ()) + COMPOSITE_INDEXES_BACKWARDS


async def refuse_a_part_of_the_old_chain() -> None:
    """A database that ran some of the squashed chain but not its newest (2026-12-02T00:20) would have its
    tables created again over the old ones: stop and say how to bring it up to date first."""
    ran = await RawTable.raw("SELECT name FROM migration WHERE app_name = {}", "remotecase")
    if ran:
        raise RuntimeError(
            f"this database ran {len(ran)} of the migrations squashed on 2026-12-02 but not the newest; "
            "run `remotecase migrate` once from commit 21f42d4 (git worktree add /tmp/rc-old 21f42d4), "
            "then migrate here"
        )


class InitialMigration(MigrationManager):
    """piccolo runs a manager's raw steps before it creates tables; the indexes and the trigger need the
    tables, so they run after the manager, inside one outer transaction (the manager's own joins it)."""

    async def run(self, backwards: bool = False):
        engine = engine_finder()
        if not backwards:
            await refuse_a_part_of_the_old_chain()
        async with engine.transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                for statement in after_tables():
                    await RawTable.raw(statement)


async def forwards():
    manager = InitialMigration(migration_id=ID, app_name="remotecase", description=DESCRIPTION)
    for class_name, tablename, columns in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            base = FOREIGN_KEY_BASE if column_class is ForeignKey else BASE
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=base | params,
                schema=None,
            )

    async def backwards():  # `piccolo migrations backwards`: these go first, then the tables are dropped
        for statement in before_dropping_tables():
            await RawTable.raw(statement)

    manager.add_raw_backwards(backwards)
    return manager
