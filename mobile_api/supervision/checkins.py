"""The supervised person's check-ins: the windows to answer, a check-in with its receipt, my check-ins."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend import i18n
from backend.core.crypto import b64d
from backend.core.errors import InvalidInput
from backend.supervision import lists
from backend.supervision import page_schemas as pages
from backend.supervision.checkins import convert as c
from backend.supervision.checkins import schemas as s
from backend.supervision.checkins.services import CheckinService
from backend.supervision.checkins.submission import Submission
from backend.supervision.measures import services as measures
from backend.web.deps import BEARER, PHONE, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor


class MyCheckinController(Controller):
    path = "/"
    tags = ["phone: supervision"]
    dependencies = PHONE
    security = BEARER

    @get("/measure/windows", operation_id="myWindows")
    async def windows(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.WindowPage:
        """Check-in windows open now or coming, by opening time."""
        measure = await measures.my_measure(principal)
        page = await lists.windows(measure.id, cursor, limit, include_past=False)
        return pages.WindowPage([c.window_out(w) for w in page.items], page.next_cursor)

    @post("/checkins", operation_id="submitCheckin")
    async def checkin(
        self,
        request: Request,
        checkins: NamedDependency[CheckinService],
        principal: CurrentPrincipal,
        data: JSONBody[s.CheckinIn],
    ) -> s.CheckinOut:
        """Check in with location and selfie. Always answers with a signed receipt, whatever the outcome."""
        selfie = None
        if data.selfie_jpeg_base64:
            try:
                selfie = b64d(data.selfie_jpeg_base64)
            except ValueError:
                raise InvalidInput("selfie_jpeg_base64", "is not base64") from None
        fix = data.location  # a fix in the upload's words: t, lat, lon, accuracy_m, mock
        submission = Submission(
            captured_at=data.captured_at,
            latitude=fix.lat if fix else None,
            longitude=fix.lon if fix else None,
            accuracy_m=fix.accuracy_m if fix else None,
            fix_time=fix.t if fix else None,
            mock_location=fix.mock if fix else False,
            selfie=selfie,
            technical_failure=data.technical_failure,
            window_id=str(data.window_id) if data.window_id else None,
            offline=data.offline,
            device_id=str(data.device_id) if data.device_id else None,
            signature=data.signature,
        )
        checkin = await checkins.submit(principal, submission)
        language = await i18n.language_for(principal.user_id, request.headers.get("accept-language"))
        return c.checkin_out(checkin, language)

    @get("/checkins", operation_id="myCheckins")
    async def checkins(
        self, request: Request, principal: CurrentPrincipal, cursor: Cursor = None, limit: PageLimit = 50
    ) -> pages.CheckinPage:
        """My check-ins with their receipts, newest first."""
        measure = await measures.my_measure(principal)
        page = await lists.checkins(measure.id, cursor, limit)
        language = await i18n.language_for(principal.user_id, request.headers.get("accept-language"))
        return pages.CheckinPage([c.checkin_out(x, language) for x in page.items], page.next_cursor)
