"""The phone user's own account and sessions."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from backend.accounts.directory import DirectoryService
from backend.accounts.schemas import MeUpdate, SessionOut, SessionPage, UserOut, session_out, user_out
from backend.accounts.sessions import SessionService
from backend.i18n import preference
from backend.web.deps import BEARER, PHONE, CurrentPrincipal, PageLimit
from backend.web.paging import Cursor


class MeController(Controller):
    path = "/me"
    tags = ["phone: me"]
    dependencies = PHONE
    security = BEARER

    @get("/", operation_id="phoneMe")
    async def me(self, directory: NamedDependency[DirectoryService], principal: CurrentPrincipal) -> UserOut:
        """My account."""
        return user_out(await directory.get_user(principal, principal.user_id))

    @patch("/", operation_id="updateMe")
    async def update(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        data: JSONBody[MeUpdate],
    ) -> UserOut:
        """Change my account: `language` (zh | en, or null to follow the phone's Accept-Language) picks the
        language of my SMS, inbox items and the texts the app shows."""
        if data.language is not msgspec.UNSET:
            return user_out(await preference.set_language(principal, data.language))
        return user_out(await directory.get_user(principal, principal.user_id))

    @get("/sessions", operation_id="listMySessions")
    async def sessions(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        cursor: Cursor = None,
        limit: PageLimit = 50,
    ) -> SessionPage:
        """Devices where I am logged in, newest session first."""
        page = await directory.my_sessions(principal, cursor, limit)
        return SessionPage([session_out(s, principal.session_id) for s in page.items], page.next_cursor)

    @get("/sessions/{session_id:uuid}", operation_id="getMySession")
    async def session(
        self,
        directory: NamedDependency[DirectoryService],
        principal: CurrentPrincipal,
        session_id: FromPath[UUID],
    ) -> SessionOut:
        """One of my sessions."""
        row = await directory.my_session(principal, str(session_id))
        return session_out(row, principal.session_id)

    @delete("/sessions/{session_id:uuid}", operation_id="endMySession", status_code=HTTP_204_NO_CONTENT)
    async def end_session(
        self,
        directory: NamedDependency[DirectoryService],
        sessions: NamedDependency[SessionService],
        principal: CurrentPrincipal,
        session_id: FromPath[UUID],
    ) -> None:
        """Log out another device (or this one)."""
        row = await directory.my_session(principal, str(session_id))
        await sessions.revoke(str(row.id), "ended-by-user")
