"""One-time login codes: Twilio Verify when configured, else a built-in provider that keeps a hashed code."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from typing import Protocol

from twilio.base.exceptions import TwilioRestException

from backend.accounts.tables import OtpCode
from backend.core.clock import utcnow
from backend.core.crypto import keyed_hash
from backend.core.errors import InvalidInput, ServiceUnavailable
from backend.ops.sms import SmsSender

log = logging.getLogger("remotecase.otp")


class OtpProvider(Protocol):
    async def start(self, phone: str) -> None: ...

    async def check(self, phone: str, code: str) -> bool: ...


class LocalOtpProvider:
    """Generates the code itself and sends it through the configured SMS sender."""

    def __init__(self, sender: SmsSender, hash_key: bytes, ttl_seconds: int) -> None:
        self._sender, self._key, self._ttl = sender, hash_key, ttl_seconds

    async def start(self, phone: str) -> None:
        code = f"{secrets.randbelow(10**6):06d}"
        now = utcnow()
        # A new code replaces any earlier one still pending.
        await OtpCode.update({OtpCode.consumed_at: now}).where(
            (OtpCode.phone == phone) & OtpCode.consumed_at.is_null()
        )
        await OtpCode.insert(
            OtpCode(
                phone=phone,
                code_hash=keyed_hash(self._key, f"{phone}:{code}"),
                created_at=now,
                expires_at=now + timedelta(seconds=self._ttl),
            )
        )
        await self._sender.send(phone, f"Your remotecase login code is {code}. It expires in 5 minutes.")

    async def check(self, phone: str, code: str) -> bool:
        now = utcnow()
        pending = (
            await OtpCode.objects()
            .where((OtpCode.phone == phone) & OtpCode.consumed_at.is_null() & (OtpCode.expires_at > now))
            .order_by(OtpCode.created_at, ascending=False)
            .first()
        )
        if pending is None:
            return False
        if not hmac.compare_digest(pending.code_hash, keyed_hash(self._key, f"{phone}:{code}")):
            return False
        pending.consumed_at = now
        await pending.save([OtpCode.consumed_at])
        return True


class TwilioVerifyProvider:
    """Twilio Verify sends and checks the code; we never see it."""

    def __init__(self, client, service_sid: str) -> None:
        self._service = client.verify.v2.services(service_sid)

    async def start(self, phone: str) -> None:
        try:
            await self._service.verifications.create_async(to=phone, channel="sms")
        except TwilioRestException as exc:
            log.warning("twilio verify start failed", extra={"status": exc.status, "code": exc.code})
            if exc.status == 400:
                raise InvalidInput("phone", "the SMS provider cannot send to this number") from exc
            raise ServiceUnavailable("The SMS provider refused to send a code; try again later") from exc

    async def check(self, phone: str, code: str) -> bool:
        try:
            result = await self._service.verification_checks.create_async(to=phone, code=code)
        except TwilioRestException as exc:
            # 404: no pending verification (expired, already approved or never started).
            if exc.status == 404:
                return False
            raise ServiceUnavailable("The SMS provider could not check the code; try again later") from exc
        return result.status == "approved"
