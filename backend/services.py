"""Builds the service objects from settings; shared by the web app, the CLI and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.accounts.auth_service import AuthService
from backend.accounts.directory import DirectoryService
from backend.accounts.otp import LocalOtpProvider, TwilioVerifyProvider
from backend.accounts.sessions import SessionService
from backend.audit.trail import AuditTrail
from backend.biometrics.services import Biometrics
from backend.core.crypto import derive_key
from backend.core.keyring import KeyRing, RingBox
from backend.face import open_face_service
from backend.face.verifier import available_cores
from backend.ops.sms import ConsoleSmsSender, SmsSender, TwilioSmsSender
from backend.ops.storage import LocalFileStore
from backend.ops.twilio_client import make_twilio_client
from backend.settings import Settings
from backend.supervision.checkins.receipts import ReceiptSigner
from backend.supervision.checkins.services import CheckinService
from backend.supervision.fences import checkin_fix


@dataclass
class Services:
    settings: Settings
    sessions: SessionService
    auth: AuthService
    directory: DirectoryService
    sms: SmsSender
    receipts: ReceiptSigner
    checkins: CheckinService
    storage: LocalFileStore
    biometrics: Biometrics
    audit: AuditTrail = field(default_factory=AuditTrail)
    closers: list = field(default_factory=list)

    async def close(self) -> None:
        for close in self.closers:
            await close()


def build_services(settings: Settings) -> Services:
    ring = settings.keys or KeyRing.single(settings.secret_key)
    totp_box = RingBox(ring, "totp-secret")
    sessions = SessionService(settings.auth, ring)
    closers = []
    if settings.twilio.configured:
        client = make_twilio_client(settings.twilio)
        closers.append(client.http_client.close)
        otp = TwilioVerifyProvider(client, settings.twilio.verify_service_sid)
        sms: SmsSender = (
            TwilioSmsSender(client, settings.twilio.messaging_from)
            if settings.twilio.messaging_from
            else ConsoleSmsSender()
        )
    else:
        sms = ConsoleSmsSender()
        otp = LocalOtpProvider(sms, derive_key(settings.secret_key, "otp"), settings.auth.otp_ttl_seconds)
    receipts = ReceiptSigner(ring)
    # Models load once, here; a missing folder gives a stand-in that says why (see /health).
    # Server workers share the cores: each runs its share of face threads, so N workers never oversubscribe.
    face = open_face_service(settings.face_model_dir, workers=max(1, available_cores() // settings.workers))
    closers.append(face.aclose)
    storage = LocalFileStore(settings.storage_dir)
    biometrics = Biometrics(face, ring, storage)
    return Services(
        settings=settings,
        sessions=sessions,
        auth=AuthService(settings.auth, sessions, otp, totp_box),
        directory=DirectoryService(totp_box),
        sms=sms,
        receipts=receipts,
        checkins=CheckinService(receipts, face=biometrics, location_judge=checkin_fix.checkin_doubts),
        storage=storage,
        biometrics=biometrics,
        closers=closers,
    )
