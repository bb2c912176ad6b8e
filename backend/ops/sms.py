"""SMS senders behind one interface: Twilio when configured, else a console sender that records messages."""

from __future__ import annotations

import logging
from typing import Protocol

from backend.ops.tables import SmsMessage

log = logging.getLogger("remotecase.sms")


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
