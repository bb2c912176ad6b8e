"""Check-ins: judging a submission, its signed receipt, late offline captures (the sweep: missed.py)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import i18n
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import as_utc, utcnow
from backend.core.context import SYSTEM
from backend.core.errors import InvalidInput, NotFound, PreconditionRequired
from backend.core.ids import parse_uuid, uuid7
from backend.db import sql
from backend.db.engine import write_tx
from backend.face.imagesize import ImageHeaderError, check_image_size
from backend.notify import services as notify
from backend.supervision.checkins.face_check import FaceCheck, NoFaceCheck
from backend.supervision.checkins.receipts import ReceiptSigner, verify_device_signature
from backend.supervision.checkins.tables import CheckinWindow
from backend.supervision.handling import cascade as handling
from backend.supervision.ledger import entries as ledger
from backend.supervision.measures.services import my_measure, note_activity
from backend.supervision.measures.tables import Device, Measure

CLOCK_SKEW = timedelta(minutes=2)
ONLINE_MAX_AGE = timedelta(minutes=10)  # an online submission is captured just before it is sent
TECHNICAL_KINDS = ("camera_error", "no_gps_fix", "app_error")
SEVERITY = {"accepted": 0, "doubtful": 1, "rejected": 2, "technical_failure": 3}


@dataclass
class Submission:
    captured_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    fix_time: datetime | None = None
    mock_location: bool = False
    selfie: bytes | None = None
    technical_failure: str | None = None
    window_id: str | None = None
    offline: bool = False
    device_id: str | None = None
    signature: str | None = None

    def signed_payload(self, measure_id: str) -> dict:
        """What the device signs for an offline capture (canonical JSON of these fields)."""
        return {
            "measure_id": measure_id,
            "window_id": self.window_id,
            "captured_at": as_utc(self.captured_at).isoformat(),
            "latitude": self.latitude,
            "longitude": self.longitude,
            "accuracy_m": self.accuracy_m,
            "fix_time": as_utc(self.fix_time).isoformat() if self.fix_time else None,
            "mock_location": self.mock_location,
            "selfie_sha256": hashlib.sha256(self.selfie).hexdigest() if self.selfie else None,
        }


@dataclass
class Judgement:
    outcome: str = "accepted"
    reasons: list[str] | None = None
    similarity: float | None = None
    liveness: float | None = None
    doubts: list[str] | None = None  # what made it doubtful (reasons also holds informational ones)

    def add(self, outcome: str, reason: str) -> None:
        self.reasons = [*(self.reasons or []), reason]
        if outcome == "doubtful":
            self.doubts = [*(self.doubts or []), reason]
        if SEVERITY[outcome] > SEVERITY[self.outcome]:
            self.outcome = outcome


@dataclass
class CheckinRecord:
    """A recorded check-in as the controller answers it (the row itself is written by hand-written SQL)."""

    id: uuid.UUID
    measure: object
    window: object
    received_at: datetime
    captured_at: datetime
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    fix_time: datetime | None
    mock_location: bool
    offline: bool
    device: object
    outcome: str
    reasons: list[str]
    face_similarity: float | None
    face_liveness: float | None
    receipt: str


class CheckinService:
    def __init__(self, signer: ReceiptSigner, face: FaceCheck | None = None, location_judge=None) -> None:
        self._signer = signer
        self._face = face or NoFaceCheck()
        # (measure, submission) -> list of doubt reasons; the geofence wiring provides the real one.
        self._location_judge = location_judge

    async def submit(self, principal: Principal, sub: Submission) -> CheckinRecord:
        measure = await my_measure(principal)
        if measure.notice_acknowledged_at is None:
            raise PreconditionRequired("Acknowledge the rights and obligations notice before checking in")
        now = utcnow()
        captured = as_utc(sub.captured_at)
        if captured > now + CLOCK_SKEW:
            raise InvalidInput("captured_at", "is in the future")
        _require_image(sub.selfie)
        judgement = Judgement()
        device = await self._check_origin(principal, measure, sub, captured, now, judgement)
        window = await self._window(measure, sub, captured, now, judgement)
        if judgement.outcome != "rejected":
            await self._judge_content(measure, sub, now, judgement)
        async with write_tx():
            if window and judgement.outcome in ("accepted", "doubtful"):
                # Claimed under the write lock: of two submissions racing for one window, one answers it.
                claimed = await sql.fetch_one(
                    "UPDATE checkin_windows SET status = 'done' WHERE id = $1 AND status = 'open' "
                    "RETURNING id",
                    window["id"],
                )
                if claimed is None:
                    judgement.add("rejected", "window_already_done")
            checkin = CheckinRecord(
                id=uuid7(),
                measure=measure.id,
                window=window["id"] if window else None,
                received_at=now,
                captured_at=captured,
                latitude=sub.latitude,
                longitude=sub.longitude,
                accuracy_m=sub.accuracy_m,
                fix_time=as_utc(sub.fix_time) if sub.fix_time else None,
                mock_location=sub.mock_location,
                offline=sub.offline,
                device=device.id if device else None,
                outcome=judgement.outcome,
                reasons=judgement.reasons or [],
                face_similarity=judgement.similarity,
                face_liveness=judgement.liveness,
                receipt="",
            )
            checkin.receipt = self._signer.sign(self._receipt_payload(checkin, measure, sub))
            # The busiest write of the platform: hand-written statements (see backend.db.sql).
            await sql.execute(
                _INSERT_CHECKIN,
                checkin.id,
                measure.id,
                checkin.window,
                now,
                captured,
                checkin.latitude,
                checkin.longitude,
                checkin.accuracy_m,
                checkin.fix_time,
                checkin.mock_location,
                checkin.offline,
                checkin.device,
                checkin.outcome,
                json.dumps(checkin.reasons),
                checkin.face_similarity,
                checkin.face_liveness,
                checkin.receipt,
            )
            await note_activity(measure, now)
            if "face_not_enrolled" in (judgement.reasons or []):
                await _ask_for_enrolment(measure)
            await audit.record(
                principal.actor,
                "checkin.submitted",
                "measure",
                measure.id,
                {"checkin": str(checkin.id), "outcome": judgement.outcome, "reasons": judgement.reasons},
                measure.executing_agency,
            )
            if "face_mismatch" in (judgement.reasons or []):
                await ledger.apply(
                    measure,
                    "failed_face_match",
                    SYSTEM,
                    "The face did not match the enrolled person",
                    rule_id="failed_face_match",
                    evidence=("checkin", checkin.id),
                )
            # A missing template alone asks for enrolment (above), not a video call on every check-in.
            if judgement.outcome == "doubtful" and set(judgement.doubts or ()) - {"face_not_enrolled"}:
                await handling.request_video_verification(
                    measure, f"Doubtful check-in: {', '.join(judgement.reasons or [])}", "checkin", checkin.id
                )
        return checkin

    def _receipt_payload(self, checkin: CheckinRecord, measure: Measure, sub: Submission) -> dict:
        return {
            "type": "checkin",
            "checkin_id": str(checkin.id),
            "measure_id": str(measure.id),
            "person_id": str(measure.person),
            "window_id": str(checkin.window) if checkin.window else None,
            "captured_at": checkin.captured_at.isoformat(),
            "received_at": checkin.received_at.isoformat(),
            "offline": checkin.offline,
            "outcome": checkin.outcome,
            "reasons": checkin.reasons,
            "location": [sub.latitude, sub.longitude, sub.accuracy_m],
            "selfie_sha256": hashlib.sha256(sub.selfie).hexdigest() if sub.selfie else None,
        }

    async def _check_origin(self, principal, measure, sub, captured, now, judgement) -> Device | None:
        if not sub.offline:
            if now - captured > ONLINE_MAX_AGE:
                raise InvalidInput(
                    "captured_at", "is too old for an online check-in; send it as an offline capture"
                )
            return None
        if not sub.device_id or not sub.signature:
            raise InvalidInput(
                "signature", "offline captures must carry device_id and the device's signature"
            )
        device = (
            await Device.objects()
            .where(
                (Device.id == sub.device_id)
                & (Device.person == principal.user_id)
                & Device.revoked_at.is_null()
            )
            .first()
        )
        if device is None or not verify_device_signature(
            device.public_key, sub.signed_payload(str(measure.id)), sub.signature
        ):
            judgement.add("rejected", "offline_signature_invalid")
        return device

    async def _window(self, measure, sub, captured, now, judgement) -> dict | None:
        if sub.window_id:
            window = await sql.fetch_one(
                f"{_WINDOW} WHERE measure = $1 AND id = $2", measure.id, parse_uuid(sub.window_id)
            )
            if window is None:
                raise NotFound("check-in window")
        else:
            # Windows may overlap (a random check on top of a scheduled one): answer an open one first
            # (index on measure, status, opens_at); only then say which closed window it fell in.
            window = await sql.fetch_one(
                f"{_WINDOW} WHERE measure = $1 AND status = 'open' AND opens_at <= $3 AND closes_at >= $2 "
                "ORDER BY opens_at LIMIT 1",
                measure.id,
                captured,
                captured + CLOCK_SKEW,
            ) or await sql.fetch_one(
                f"{_WINDOW} WHERE measure = $1 AND opens_at <= $3 AND closes_at >= $2 "
                "ORDER BY opens_at LIMIT 1",
                measure.id,
                captured,
                captured + CLOCK_SKEW,
            )
        if window is None:
            judgement.add("rejected", "no_open_window")
            return None
        # The opening has the close's slack: a phone a few seconds behind, or one that sends whole seconds,
        # captures "before" a window that opened the moment it was asked for.
        if not as_utc(window["opens_at"]) - CLOCK_SKEW <= captured <= as_utc(window["closes_at"]):
            judgement.add("rejected", "captured_outside_window")
        elif window["status"] != "open":
            judgement.add("rejected", f"window_already_{window['status']}")
        elif not sub.offline and now > as_utc(window["closes_at"]) + CLOCK_SKEW:
            judgement.add("rejected", "window_closed")
        elif sub.offline and now > as_utc(window["grace_until"]):
            judgement.add("rejected", "grace_period_over")
        return window

    async def _judge_content(self, measure, sub, now, judgement) -> None:
        if sub.technical_failure and sub.technical_failure != "no_gps_fix":
            judgement.add("technical_failure", sub.technical_failure)
            return
        # No fix is a technical failure, but the face is checked all the same: leaving the location out
        # must not be a way round the face check.
        if sub.technical_failure or sub.latitude is None or sub.longitude is None:
            judgement.add("technical_failure", "no_gps_fix")
            await self._judge_face(measure, sub, judgement)
            return
        if sub.mock_location:
            judgement.add("doubtful", "mock_location")
        if sub.accuracy_m is None or sub.accuracy_m <= 0 or sub.accuracy_m > 5000:
            judgement.add("doubtful", "implausible_accuracy")
        if sub.fix_time and as_utc(sub.fix_time) > now + CLOCK_SKEW:
            judgement.add("doubtful", "fix_in_future")
        if self._location_judge is not None:
            for reason in await self._location_judge(measure, sub):
                judgement.add("doubtful", reason)
        await self._judge_face(measure, sub, judgement)

    async def _judge_face(self, measure, sub, judgement) -> None:
        if sub.selfie is None:
            judgement.add("doubtful", "no_selfie")
            return
        verdict = await self._face.verify(str(measure.person), sub.selfie)
        if verdict is None:
            judgement.reasons = [*(judgement.reasons or []), "face_check_not_enabled"]
            return
        judgement.similarity, judgement.liveness = verdict.similarity, verdict.liveness
        if verdict.outcome == "accepted":
            judgement.reasons = [*(judgement.reasons or []), *verdict.reasons]  # informational only
            return
        for reason in verdict.reasons or [verdict.outcome]:
            judgement.add(verdict.outcome, reason)


def _require_image(selfie: bytes | None) -> None:
    """Refused before anything is recorded: a selfie must be a JPEG or PNG (by its header)."""
    if selfie is None:
        return
    try:
        check_image_size(selfie)
    except ImageHeaderError as exc:
        raise InvalidInput("selfie_jpeg_base64", f"is not a usable image: {exc}") from None


async def _ask_for_enrolment(measure: Measure) -> None:
    """One open enrolment task per measure, however many check-ins arrive without a template: the measure
    row's lock serialises the look and the insert on PostgreSQL (SQLite's writer is single)."""
    await sql.fetch_one_for_update("SELECT id FROM measures WHERE id = $1", measure.id)
    if await sql.fetch_one(_OPEN_ENROLMENT_TASK, measure.id) is None:
        await handling.open_task(
            measure, "face_enrolment", "Enrol the person's face: check-ins cannot be verified without it"
        )


async def open_random_window(
    measure: Measure, actor, minutes: int, now: datetime | None = None
) -> CheckinWindow:
    if not 5 <= minutes <= 120:
        raise InvalidInput("minutes", "must be 5-120")
    now = now or utcnow()
    async with write_tx():
        window = CheckinWindow(
            measure=measure.id,
            kind="random",
            opens_at=now,
            closes_at=now + timedelta(minutes=minutes),
            grace_until=now + timedelta(minutes=minutes),
            created_by=actor.id,
        )
        await window.save()
        title, body = await i18n.texts_for(measure.person, "random_checkin", minutes=minutes)
        await notify.enqueue(
            measure.person,
            "random_checkin",
            title,
            body,
            f"window:{window.id}",
            urgent=True,
        )
        await audit.record(
            actor,
            "checkin.random_opened",
            "measure",
            measure.id,
            {"window": str(window.id)},
            measure.executing_agency,
        )
    return window


_WINDOW = "SELECT id, opens_at, closes_at, grace_until, status FROM checkin_windows"  # noqa: S608 - constant
_OPEN_ENROLMENT_TASK = (
    "SELECT id FROM tasks WHERE measure = $1 AND kind = 'face_enrolment' AND status = 'open'"
)
_INSERT_CHECKIN = (
    'INSERT INTO checkins (id, measure, "window", received_at, captured_at, latitude, longitude, accuracy_m, '
    "fix_time, mock_location, offline, device, outcome, reasons, face_similarity, face_liveness, receipt) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
)
