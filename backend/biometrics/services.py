"""Face enrolment and check-in verification on top of the face engine, plus the purge when a measure ends.

Templates are sealed under the key ring's current key (the blob names it) and bound to the person's id.
Raw photos are not kept. Every attempt is recorded with its scores. Five rejections in a row make the
person wait (30 s, doubling), and each lock is audited; face checks are also rate-limited per person
(they cost compute).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from backend.accounts import lockout
from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.biometrics import store
from backend.biometrics.tables import FaceAttempt, FaceTemplateRecord
from backend.core.clock import utcnow
from backend.core.context import SYSTEM, Actor
from backend.core.errors import InvalidInput, RateLimited, ServiceUnavailable
from backend.core.keyring import KeyRing, RingBox
from backend.db.engine import write_tx
from backend.face import FaceServiceUnavailable, Outcome, TemplateError, decrypt_template, encrypt_template
from backend.ops import ratelimit
from backend.supervision.checkins.face_check import FaceVerdict
from backend.supervision.deadlines import local_days
from backend.supervision.ledger import scoring_rules as rules
from backend.supervision.measures.services import require_supervisor
from backend.supervision.measures.tables import Measure

log = logging.getLogger("remotecase.face")
FACE_CHECKS_PER_HOUR = 30
MAX_REJECTIONS, LOCK_BASE_SECONDS = 5, 30


class Biometrics:
    def __init__(self, face_service, keys: KeyRing | bytes, storage=None) -> None:
        self.face = face_service
        self._key = RingBox(keys if isinstance(keys, KeyRing) else KeyRing.single(keys), "face-template")
        self._storage = storage

    async def _keep(self, agency_id: object, image: bytes, name: str) -> bool:
        """Store the raw photo only where the agency has turned image keeping on."""
        policy = await rules.policy_for(agency_id)
        if not policy.keep_face_images or self._storage is None:
            return False
        await self._storage.put(image, name)
        return True

    # Enrolment ------------------------------------------------------------------------------------

    async def enrol(self, principal: Principal, measure_id: str, images: list[bytes]) -> FaceTemplateRecord:
        measure = await require_supervisor(principal, measure_id)
        if not 3 <= len(images) <= 5:
            raise InvalidInput("photos", "enrol from 3 to 5 photos")
        try:
            result = await self.face.enrol(images)
        except FaceServiceUnavailable as exc:
            raise _unavailable(exc) from None
        if not result.ok:
            problems = [
                f"photo {i + 1}: {r.message}" for i, rs in enumerate(result.photo_reasons) for r in rs
            ]
            problems += [r.message for r in result.reasons]
            raise InvalidInput("photos", "; ".join(problems) or "the photos could not be enrolled")
        sealed = encrypt_template(result.template, self._key, str(measure.person).encode())
        async with write_tx():
            await FaceTemplateRecord.delete().where(FaceTemplateRecord.person == measure.person)
            record = FaceTemplateRecord(
                person=measure.person,
                measure=measure.id,
                sealed=sealed,
                model=result.template.model or "",
                enrolled_by=principal.user_id,
            )
            await record.save()
            for index, image in enumerate(images):
                digest = hashlib.sha256(image).hexdigest()
                kept = await self._keep(measure.executing_agency, image, f"enrolment-{digest}.jpg")
                await FaceAttempt.insert(
                    FaceAttempt(
                        person=measure.person,
                        purpose="enrolment",
                        outcome="enrolled",
                        record={"photo": index + 1},
                        image_sha256=digest,
                        image_kept=kept,
                    )
                )
            await audit.record(
                principal.actor,
                "face.enrolled",
                "user",
                measure.person,
                {"photos": len(images), "model": record.model},
                measure.executing_agency,
            )
        return record

    # Verification (the check-in's FaceCheck) -------------------------------------------------------

    async def verify(self, person_id: str, image: bytes) -> FaceVerdict | None:
        # On every check-in, enrolled or not: hand-written (backend.biometrics.store).
        record = await store.sealed_template(person_id)
        if record is None:  # nobody to compare with: not proof of who checked in; an officer enrols
            return FaceVerdict("doubtful", reasons=["face_not_enrolled"])
        measure = await Measure.objects().where(Measure.id == record["measure"]).first()
        if not getattr(self.face, "available", False):
            return FaceVerdict("technical_failure", reasons=["face_service_unavailable"])
        # Counted before the model runs, so check-ins sent together cannot get more than MAX_REJECTIONS
        # comparisons past the lock; a check that could not judge gives its attempt back.
        attempt = await lockout.reserve(f"face:{person_id}", MAX_REJECTIONS, LOCK_BASE_SECONDS)
        try:
            await ratelimit.hit("face-check", person_id, FACE_CHECKS_PER_HOUR, 3600, "face checks")
        except RateLimited:
            await lockout.release(attempt, MAX_REJECTIONS)
            raise
        try:
            template = decrypt_template(bytes(record["sealed"]), self._key, str(person_id).encode())
            result = await self.face.verify(image, template)
        except TemplateError:
            log.error("face template does not decrypt", extra={"person": person_id})
            await lockout.release(attempt, MAX_REJECTIONS)
            return FaceVerdict("technical_failure", reasons=["face_template_unreadable"])
        except FaceServiceUnavailable:
            await lockout.release(attempt, MAX_REJECTIONS)
            return FaceVerdict("technical_failure", reasons=["face_service_unavailable"])
        digest = hashlib.sha256(image).hexdigest()
        kept = (
            await self._keep(measure.executing_agency, image, f"checkin-{digest}.jpg") if measure else False
        )
        # Written by the check-in, in its own transaction (record below); the lockout and rate-limit counts
        # above are bookkeeping that stands whatever becomes of the check-in.
        face_attempt = FaceAttempt(
            person=person_id,
            purpose="checkin",
            outcome=result.outcome.value,
            similarity=result.similarity,
            liveness=result.liveness,
            record=result.to_record(),
            image_sha256=digest,
            image_kept=kept,
        )
        codes = [r.code for r in result.reasons]
        if result.outcome == Outcome.REJECTED:
            if (locked_for := attempt.lock_seconds()) is not None:  # this rejection reached the limit
                await audit.record(
                    Actor(person_id, "supervisee"), "face.locked", "user", person_id, {"seconds": locked_for}
                )
            return FaceVerdict(
                "rejected", result.similarity, result.liveness, ["face_mismatch", *codes], face_attempt
            )
        if result.outcome == Outcome.REFUSED:  # no face, too dark...: the person retries, no points
            await lockout.release(attempt, MAX_REJECTIONS)
            return FaceVerdict(
                "technical_failure",
                result.similarity,
                result.liveness,
                codes or ["face_refused"],
                face_attempt,
            )
        await lockout.succeeded(attempt)
        outcome = "accepted" if result.outcome == Outcome.ACCEPTED else "doubtful"
        return FaceVerdict(outcome, result.similarity, result.liveness, codes, face_attempt)

    async def record(self, verdict: FaceVerdict | None) -> None:
        """The check-in's FaceCheck.record: the attempt verify made, in the check-in's transaction."""
        if verdict is not None and verdict.attempt is not None:
            await FaceAttempt.insert(verdict.attempt)

    # Privacy ----------------------------------------------------------------------------------------

    async def purge_ended(self, now: datetime | None = None) -> int:
        """Delete the templates of persons whose measure has ended; each deletion is audited.

        A measure has ended once its end date is before today in its own zone. The query bounds
        end_date by the latest date on Earth (one indexed range); each row is then checked in its zone.
        """
        now = now or utcnow()
        candidates = await FaceTemplateRecord.select(
            FaceTemplateRecord.id,
            FaceTemplateRecord.person,
            FaceTemplateRecord.measure.executing_agency,
            FaceTemplateRecord.measure.status,
            FaceTemplateRecord.measure.end_date,
            FaceTemplateRecord.measure.timezone,
        ).where(
            (FaceTemplateRecord.measure.status != "active")
            | (FaceTemplateRecord.measure.end_date < local_days.latest_today(now))
        )
        ended = [
            row
            for row in candidates
            if row["measure.status"] != "active"
            or row["measure.end_date"] < local_days.today_in(row["measure.timezone"], now)
        ]
        for row in ended:
            async with write_tx():
                await FaceTemplateRecord.delete().where(FaceTemplateRecord.id == row["id"])
                await audit.record(
                    SYSTEM,
                    "face.template_purged",
                    "user",
                    row["person"],
                    {"reason": "measure ended"},
                    row["measure.executing_agency"],
                )
        return len(ended)


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(str(exc))
