"""SMS senders behind one interface: Twilio when configured, else a console sender that records messages."""

from __future__ import annotations

import logging
from typing import Protocol

from twilio.base.exceptions import TwilioRestException

from backend.ops.tables import SmsMessage

log = logging.getLogger("remotecase.sms")

# Twilio error codes that sending the same message again cannot cure: the number is invalid (21211,
# 21217), not a mobile number (21614), opted out with STOP (21610), unroutable (21612), or in a region the
# account may not send to (21408). https://www.twilio.com/docs/api/errors
PERMANENT_TWILIO_CODES = frozenset({21211, 21217, 21408, 21610, 21612, 21614})


class SmsUndeliverable(Exception):
    """This message can never be delivered as it is (no number, a number the provider refuses): retrying
    would only send the provider the same request again."""


def is_permanent(exc: BaseException) -> bool:
    """Whether a send failure is final. Rate limits (429), provider faults (5xx), timeouts, network
    errors and anything not recognised are transient: the outbox tries again later, so a message is never
    lost to a hiccup; only a refusal naming the message itself is final."""
    if isinstance(exc, SmsUndeliverable):
        return True
    if isinstance(exc, TwilioRestException):
        status = exc.status or 0
        return 400 <= status < 500 and status != 429 and exc.code in PERMANENT_TWILIO_CODES
    return False


class SmsSender(Protocol):
    name: str

    async def send(self, to: str, body: str) -> SmsMessage: ...


def masked(phone: str) -> str:
    """A number as a log line may show it: its last four digits."""
    return f"***{phone[-4:]}" if len(phone) > 4 else "***"


class ConsoleSmsSender:
    """Keeps the message in sms_messages, where local runs and tests read it (`remotecase sms last PHONE`).
    The log says only that a message was recorded: bodies carry login codes, and logs are not secret."""

    name = "console"

    async def send(self, to: str, body: str) -> SmsMessage:
        message = SmsMessage(to=to, body=body, sender=self.name, status="recorded")
        await message.save()
        log.info("sms recorded", extra={"to": masked(to), "sms_id": str(message.id), "length": len(body)})
        return message


class TwilioSmsSender:
    name = "twilio"

    def __init__(self, client, from_number: str) -> None:
        self._client = client
        self._from = from_number

    async def send(self, to: str, body: str) -> SmsMessage:
        message = SmsMessage(to=to, body=body, sender=self.name, status="failed")
        try:
            sent = await self._client.messages.create_async(to=to, from_=self._from, body=body)
            message.status, message.provider_id = "sent", sent.sid
        finally:
            await message.save()
        return message
