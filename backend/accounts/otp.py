"""One-time login codes: Twilio Verify when configured, else a built-in provider that keeps a hashed code."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Protocol

from twilio.base.exceptions import TwilioRestException

from backend import i18n
from backend.accounts import store
from backend.core.clock import utcnow
from backend.core.crypto import keyed_hash
from backend.core.errors import InvalidInput, ServiceUnavailable
from backend.db.engine import write_tx
from backend.ops.sms import SmsSender

log = logging.getLogger("remotecase.otp")


class OtpProvider(Protocol):
    async def start(self, phone: str, accept_language: str | None = None) -> None: ...

    async def check(self, phone: str, code: str) -> bool: ...


class LocalOtpProvider:
    """Generates the code itself and sends it through the configured SMS sender."""

    def __init__(self, sender: SmsSender, hash_key: bytes, ttl_seconds: int) -> None:
        self._sender, self._key, self._ttl = sender, hash_key, ttl_seconds

    async def start(self, phone: str, accept_language: str | None = None) -> None:
        code = f"{secrets.randbelow(10**6):06d}"
        now = utcnow()
        async with write_tx():  # a new code replaces any earlier one still pending, in one step
            await store.replace_code(
                phone, keyed_hash(self._key, f"{phone}:{code}"), now, now + timedelta(seconds=self._ttl)
            )
        language = await _language(phone, accept_language)
        minutes = max(1, self._ttl // 60)
        await self._sender.send(phone, i18n.translate("otp.sms", language, code=code, minutes=minutes))

    async def check(self, phone: str, code: str) -> bool:
        """Consume the number's latest pending code if `code` is it. One conditional statement: of two
        requests sending the right code at once, one consumes it and the other finds nothing to consume."""
        now = utcnow()
        async with write_tx():
            consumed = await store.consume_code(phone, keyed_hash(self._key, f"{phone}:{code}"), now)
        return consumed


async def _language(phone: str, accept_language: str | None) -> str:
    """The language of the account with this number, if there is one and it chose; else the request's."""
    return i18n.choose(await store.language_of_phone(phone), accept_language)


class TwilioVerifyProvider:
    """Twilio Verify sends and checks the code; we never see it."""

    def __init__(self, client, service_sid: str) -> None:
        self._service = client.verify.v2.services(service_sid)

    async def start(self, phone: str, accept_language: str | None = None) -> None:
        try:
            # Twilio writes the text itself, in the locale named (zh and en are among its locales).
            locale = await _language(phone, accept_language)
            await self._service.verifications.create_async(to=phone, channel="sms", locale=locale)
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
