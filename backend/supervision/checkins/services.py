"""The check-in, top to bottom: judge the submission, then record it and everything it sets in motion in
one transaction (the row and its signed receipt, the face attempt, activity, the audit row, the ledger
and handling). Random checks: random_checks.py; the missed-window sweep: missed_sweep.py."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import as_utc, utcnow
from backend.core.context import SYSTEM
from backend.core.errors import InvalidInput, NotFound, PreconditionRequired
from backend.core.ids import parse_uuid, uuid7
from backend.db.engine import write_tx
from backend.supervision.checkins import store
from backend.supervision.checkins.face_check import FaceCheck, FaceVerdict, NoFaceCheck
from backend.supervision.checkins.receipts import ReceiptSigner, verify_device_signature
from backend.supervision.checkins.submission import (
    CLOCK_SKEW,
    ONLINE_MAX_AGE,
    CheckinRecord,
    Judgement,
    Submission,
    judge_face,
    judge_fix,
    judge_window,
    require_image,
)
from backend.supervision.handling import cascade as handling
from backend.supervision.handling import store as handling_store
from backend.supervision.ledger import entries as ledger
from backend.supervision.measures import store as measures_store
from backend.supervision.measures.services import my_measure, note_activity
from backend.supervision.measures.tables import Device, Measure


class CheckinService:
    def __init__(self, signer: ReceiptSigner, face: FaceCheck | None = None, location_judge=None) -> None:
        self._signer = signer
        self._face = face or NoFaceCheck()
        # (measure, submission) -> list of doubt reasons: the fence judgement (fences/uploads.py).
        self._location_judge = location_judge

    async def submit(self, principal: Principal, sub: Submission) -> CheckinRecord:
        measure = await my_measure(principal)
        if measure.notice_acknowledged_at is None:
            raise PreconditionRequired("Acknowledge the rights and obligations notice before checking in")
        now = utcnow()
        captured = as_utc(sub.captured_at)
        if captured > now + CLOCK_SKEW:
            raise InvalidInput("captured_at", "is in the future")
        require_image(sub.selfie)

        judgement = Judgement()
        device = await self._check_origin(principal, measure, sub, captured, now, judgement)
        window = await self._find_window(measure, sub, captured)
        judge_window(window, sub, captured, now, judgement)
        # Before the transaction, on purpose: comparing a face is slow CPU work and must not hold SQLite's
        # one write lock (every writer of the platform would queue behind it). The verifier's lockout and
        # rate-limit counts are bookkeeping it commits itself, so they stand whatever becomes of this
        # check-in; the attempt's own row is written below, with the check-in.
        verdict = None
        if judgement.outcome != "rejected":
            verdict = await self._judge_content(measure, sub, now, judgement)

        async with write_tx():
            answers = window is not None and judgement.outcome in ("accepted", "doubtful")
            if answers and not await store.claim_window(window["id"]):
                judgement.add("rejected", "window_already_done")
            await self._face.record(verdict)
            checkin = await self._record(measure, window, device, sub, captured, now, judgement)
            await note_activity(measure, now)
            if judgement.has("face_not_enrolled"):
                await _ask_for_enrolment(measure)
            await audit.record(
                principal.actor,
                "checkin.submitted",
                "measure",
                measure.id,
                {"checkin": str(checkin.id), "outcome": judgement.outcome, "reasons": judgement.reasons},
                measure.executing_agency,
            )
            if judgement.has("face_mismatch"):
                booking = await ledger.apply(
                    measure,
                    "failed_face_match",
                    SYSTEM,
                    "The face did not match the enrolled person",
                    rule_id="failed_face_match",
                    evidence=("checkin", checkin.id),
                )
                await handling.follow_code_change(measure, booking, SYSTEM)
            # A missing template alone asks for enrolment (above), not a video call on every check-in.
            if judgement.outcome == "doubtful" and set(judgement.doubts or ()) - {"face_not_enrolled"}:
                await handling.request_video_verification(
                    measure, f"Doubtful check-in: {', '.join(judgement.reasons or [])}", "checkin", checkin.id
                )
        return checkin

    async def _check_origin(self, principal, measure, sub, captured, now, judgement) -> Device | None:
        """Online: captured just now. Offline: signed by one of the person's registered devices."""
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

    async def _find_window(self, measure, sub, captured: datetime) -> dict | None:
        if sub.window_id:
            window = await store.window(measure.id, parse_uuid(sub.window_id))
            if window is None:
                raise NotFound("check-in window")
            return window
        return await store.window_at(measure.id, captured, captured + CLOCK_SKEW)

    async def _judge_content(self, measure, sub, now, judgement) -> FaceVerdict | None:
        """The fix against the fences, then the face. Returns the face verifier's verdict."""
        if sub.technical_failure and sub.technical_failure != "no_gps_fix":
            judgement.add("technical_failure", sub.technical_failure)
            return None
        # No fix is a technical failure, but the face is checked all the same: leaving the location out
        # must not be a way round the face check.
        if judge_fix(sub, now, judgement) and self._location_judge is not None:
            for reason in await self._location_judge(measure, sub):
                judgement.add("doubtful", reason)
        if sub.selfie is None:
            judgement.add("doubtful", "no_selfie")
            return None
        verdict = await self._face.verify(str(measure.person), sub.selfie)
        judge_face(verdict, judgement)
        return verdict

    async def _record(self, measure, window, device, sub, captured, now, judgement) -> CheckinRecord:
        """The check-in row and its signed receipt (the person's proof, even of a rejected one)."""
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
        checkin.receipt = self._signer.sign(_receipt_payload(checkin, measure, sub))
        await store.insert_checkin(
            (
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
        )
        return checkin


def _receipt_payload(checkin: CheckinRecord, measure: Measure, sub: Submission) -> dict:
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


async def _ask_for_enrolment(measure: Measure) -> None:
    """One open enrolment task per measure, however many check-ins arrive without a template: the measure
    row's lock serialises the look and the insert on PostgreSQL (SQLite's writer is single)."""
    await measures_store.lock(measure.id)
    if await handling_store.open_task_of_kind(measure.id, "face_enrolment") is None:
        await handling.open_task(
            measure, "face_enrolment", "Enrol the person's face: check-ins cannot be verified without it"
        )
