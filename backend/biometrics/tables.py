"""Encrypted face templates and the record of every verification attempt."""

from piccolo.columns import JSON, UUID, Boolean, Bytea, Float, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.core.ids import uuid7
from backend.supervision.measures.tables import Measure


class FaceTemplateRecord(Table, tablename="face_templates"):
    id = UUID(primary_key=True, default=uuid7)
    person = ForeignKey(User, unique=True)
    measure = ForeignKey(Measure, index=True)
    # AES-256-GCM with a key derived from SECRET_KEY, bound to the person's id: never stored in clear.
    sealed = Bytea()
    model = Varchar(length=100)
    enrolled_by = Varchar(length=40)
    enrolled_at = Timestamptz(default=TimestamptzNow())


class FaceAttempt(Table, tablename="face_attempts"):
    id = UUID(primary_key=True, default=uuid7)
    person = ForeignKey(User, index=True)
    at = Timestamptz(default=TimestamptzNow())
    purpose = Varchar(length=16)  # checkin | enrolment
    outcome = Varchar(length=24)
    similarity = Float(null=True, default=None)
    liveness = Float(null=True, default=None)
    record = JSON(default="{}")  # every score and reason (no image)
    image_sha256 = Varchar(length=64, null=True, default=None)
    image_kept = Boolean(default=False)  # stored (content-addressed) only where the agency keeps images
