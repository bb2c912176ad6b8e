"""A local HTTP server that speaks the part of Twilio's REST API we call (Verify v2 and Messages).

The real twilio client talks to it over HTTP; it checks basic auth and form fields the way Twilio does,
generates codes like Verify would, and keeps what it received so tests can look.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import BasicAuth, web

UNDELIVERABLE = "+15005550001"  # Twilio's magic number for an invalid 'To'


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    service_sid: str = "VA" + "1" * 32
    codes: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, dict]] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    # Errors for the next messages to a number, in order, as (status, code, message): (503, 20500, "...").
    message_failures: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None

    def _authorised(self, request: web.Request) -> bool:
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            return False
        return auth.login == self.account_sid and auth.password == self.auth_token

    async def _verification(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        form = dict(await request.post())
        self.requests.append((request.path, form))
        if request.match_info["service"] != self.service_sid:
            return _error(404, 20404, "The requested resource was not found")
        to, channel = form.get("To"), form.get("Channel")
        if not to or channel not in {"sms", "call", "whatsapp", "email", "sna", "auto"}:
            return _error(400, 60200, "Invalid parameter")
        if to == UNDELIVERABLE:
            return _error(400, 60200, "Invalid parameter `To`")
        self.codes[to] = f"{secrets.randbelow(10**6):06d}"
        return web.json_response(self._verification_body(to, channel, "pending"), status=201)

    async def _check(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        form = dict(await request.post())
        self.requests.append((request.path, form))
        to, code = form.get("To"), form.get("Code")
        if to not in self.codes:
            return _error(404, 20404, "The requested resource was not found")
        approved = code == self.codes[to]
        if approved:
            del self.codes[to]
        return web.json_response(self._verification_body(to, "sms", "approved" if approved else "pending"))

    async def _message(self, request: web.Request) -> web.Response:
        if not self._authorised(request) or request.match_info["account"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        form = dict(await request.post())
        self.messages.append(form)
        if failures := self.message_failures.get(form.get("To", "")):
            return _error(*failures.pop(0))
        if form.get("To") == UNDELIVERABLE:
            return _error(400, 21211, "The 'To' number is not a valid phone number.")
        sid = "SM" + secrets.token_hex(16)
        body = {"sid": sid, "account_sid": self.account_sid, "to": form.get("To"), "from": form.get("From")}
        return web.json_response(body | {"body": form.get("Body"), "status": "queued"}, status=201)

    def _verification_body(self, to: str, channel: str, status: str) -> dict:
        return {
            "sid": "VE" + secrets.token_hex(16),
            "service_sid": self.service_sid,
            "account_sid": self.account_sid,
            "to": to,
            "channel": channel,
            "status": status,
            "valid": status == "approved",
            "date_created": "2026-01-01T00:00:00Z",
            "date_updated": "2026-01-01T00:00:00Z",
        }

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/v2/Services/{service}/Verifications", self._verification)
        app.router.add_post("/v2/Services/{service}/VerificationCheck", self._check)
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._message)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
