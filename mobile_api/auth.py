"""Phone login: request a one-time code by SMS, exchange it for tokens, refresh, log out."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from backend.accounts.auth_service import AuthService
from backend.accounts.schemas import CodeLogin, CodeRequest, CodeSent, RefreshRequest, Tokens, tokens_out
from backend.accounts.sessions import SessionService
from backend.settings import Settings
from backend.web.deps import BEARER, PHONE, CurrentPrincipal, client_address

NO_IDEMPOTENCY = {"idempotency": False}


class PhoneAuthController(Controller):
    path = "/auth"
    tags = ["phone: auth"]

    @post("/code", operation_id="requestLoginCode", status_code=HTTP_202_ACCEPTED, opt=NO_IDEMPOTENCY)
    async def request_code(
        self,
        request: Request,
        auth: NamedDependency[AuthService],
        settings: NamedDependency[Settings],
        data: JSONBody[CodeRequest],
    ) -> CodeSent:
        """Send a one-time login code by SMS (rate-limited per number and per client address)."""
        await auth.send_code(data.phone, client_address(request), request.headers.get("accept-language"))
        return CodeSent(sent=True, expires_in=settings.auth.otp_ttl_seconds)

    @post("/login", operation_id="phoneLogin", status_code=HTTP_200_OK, opt=NO_IDEMPOTENCY)
    async def login(
        self, request: Request, auth: NamedDependency[AuthService], data: JSONBody[CodeLogin]
    ) -> Tokens:
        """Exchange the code for tokens; a new number becomes a citizen account."""
        pair = await auth.login_with_code(
            data.phone, data.code, client_address(request), request.headers.get("user-agent")
        )
        return tokens_out(pair)

    @post("/refresh", operation_id="phoneRefresh", status_code=HTTP_200_OK, opt=NO_IDEMPOTENCY)
    async def refresh(
        self, sessions: NamedDependency[SessionService], data: JSONBody[RefreshRequest]
    ) -> Tokens:
        """Trade a refresh token for a new pair; the old refresh token stops working."""
        return tokens_out(await sessions.refresh(data.refresh_token, "mobile"))

    @post(
        "/logout",
        operation_id="phoneLogout",
        status_code=HTTP_204_NO_CONTENT,
        dependencies=PHONE,
        security=BEARER,
        opt=NO_IDEMPOTENCY,
    )
    async def logout(self, auth: NamedDependency[AuthService], principal: CurrentPrincipal) -> None:
        """End this session on this phone."""
        await auth.logout(principal)
