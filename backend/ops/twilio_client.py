"""The real twilio async client, optionally pointed at another base URL (a proxy or a local test server)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from backend.settings import TwilioSettings


class BaseUrlHttpClient(AsyncTwilioHttpClient):
    """Keeps Twilio's paths and auth but sends requests to `base_url`'s scheme and host."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc

    async def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        rewritten = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))
        return await super().request(method, rewritten, *args, **kwargs)


def make_twilio_client(settings: TwilioSettings) -> Client:
    http_client = (
        BaseUrlHttpClient(settings.base_url, timeout=10)
        if settings.base_url
        else AsyncTwilioHttpClient(timeout=10)
    )
    return Client(settings.account_sid, settings.auth_token, http_client=http_client)
