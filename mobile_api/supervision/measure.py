"""The supervised person's app: my measure, notice, check-ins with receipts, contests, travel, inbox."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from backend import i18n
from backend.supervision import convert as c
from backend.supervision import lists, reads
from backend.supervision import page_schemas as pages
from backend.supervision import schemas as s
from backend.supervision.checkins.receipts import ReceiptSigner
from backend.supervision.measures import devices, notices
from backend.supervision.measures import services as measures
from backend.web.deps import BEARER, PHONE, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor
from mobile_api.receipts import ReceiptPublicKey
from mobile_api.receipts import public_key as receipt_public_key


class MyMeasureController(Controller):
    path = "/"
    tags = ["phone: supervision"]
    dependencies = PHONE
    security = BEARER

    @get("/measure", operation_id="myMeasure")
    async def measure(self, principal: CurrentPrincipal) -> s.MeasureOut:
        """My active measure: obligations, score and code."""
        measure = await measures.my_measure(principal)
        return c.measure_out(measure, await reads.obligations(measure.id))

    @get("/measure/ledger", operation_id="myLedger")
    async def ledger(
        self, request: Request, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.LedgerPage:
        """Every change of my score, with its reason and rule, oldest first; `reason_text` says what each
        means in my language (stored, else Accept-Language, else zh)."""
        measure = await measures.my_measure(principal)
        page = await lists.ledger(measure.id, cursor, limit)
        language = await i18n.language_for(principal.user_id, request.headers.get("accept-language"))
        return pages.LedgerPage([c.entry_out(e, language) for e in page.items], page.next_cursor)

    @get("/notice", operation_id="myNotice")
    async def notice(
        self, request: Request, principal: CurrentPrincipal, language: FromQuery[str | None] = None
    ) -> s.NoticeOut:
        """The rights and obligations notice, in Chinese (zh) or English (en): the `language` asked for,
        else the one I stored, else my phone's Accept-Language, else Chinese."""
        measure = await measures.my_measure(principal)
        if language is None:
            language = await i18n.language_for(principal.user_id, request.headers.get("accept-language"))
        text = notices.notice(language)
        return s.NoticeOut(
            text.version, text.language, text.text, text.sha256, measure.notice_acknowledged_at is not None
        )

    @post("/notice/acknowledgements", operation_id="acknowledgeNotice")
    async def acknowledge(self, principal: CurrentPrincipal, data: JSONBody[s.NoticeAckIn]) -> s.NoticeAckOut:
        """Acknowledge the notice shown (its version, language and the hash of its text)."""
        ack = await measures.acknowledge_notice(
            principal, data.version, data.language, data.text_sha256, data.device_id
        )
        return s.NoticeAckOut(ack.acknowledged_at, ack.notice_version)

    @post("/devices", operation_id="registerDevice")
    async def device(self, principal: CurrentPrincipal, data: JSONBody[s.DeviceIn]) -> s.DeviceOut:
        """Register this phone's Ed25519 key (signs offline check-ins); replaces any earlier device."""
        device = await devices.register_device(principal, data.public_key, data.label)
        return s.DeviceOut(device.id, device.enrolled_at)

    @get("/inbox", operation_id="myInbox")
    async def inbox(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.InboxPage:
        """Messages to me, newest first."""
        page = await lists.inbox(principal, cursor, limit)
        return pages.InboxPage([c.inbox_out(n) for n in page.items], page.next_cursor)

    @post("/inbox/{message_id:uuid}/read", operation_id="markRead", status_code=HTTP_204_NO_CONTENT)
    async def read(self, principal: CurrentPrincipal, message_id: FromPath[UUID]) -> None:
        """Mark a message read."""
        await reads.mark_read(principal, str(message_id))


class ReceiptKeyController(Controller):
    path = "/receipts"
    tags = ["phone: supervision"]

    @get("/public-key", operation_id="receiptPublicKey")
    async def public_key(self, receipts: NamedDependency[ReceiptSigner]) -> ReceiptPublicKey:
        """The Ed25519 key that signs new receipts (raw, base64url) and its kid; all keys: /receipts/jwks."""
        return receipt_public_key(receipts)
