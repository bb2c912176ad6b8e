"""Phone login through Twilio Verify: the real async twilio client against a local Twilio-speaking server."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from backend.app import create_app
from backend.ops.sms import TwilioSmsSender
from backend.ops.tables import SmsMessage
from backend.ops.twilio_client import make_twilio_client
from backend.settings import TwilioSettings, get_settings
from tests.support.api import bearer, random_address, random_phone
from tests.support.twilio_fake import UNDELIVERABLE, FakeTwilio


@pytest.fixture(scope="module")
async def twilio():
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


def _settings(fake: FakeTwilio, token: str | None = None) -> TwilioSettings:
    return TwilioSettings(
        account_sid=fake.account_sid,
        auth_token=token or fake.auth_token,
        verify_service_sid=fake.service_sid,
        messaging_from="+15005550006",
        base_url=fake.url,
    )


@pytest.fixture(scope="module")
async def twilio_client(twilio):
    app = create_app(dataclasses.replace(get_settings(), twilio=_settings(twilio)))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.services.close()


async def test_login_code_goes_through_twilio_verify(twilio, twilio_client):
    phone, headers = random_phone(), {"X-Forwarded-For": random_address()}
    sent = await twilio_client.post("/m/v1/auth/code", json={"phone": phone}, headers=headers)
    assert sent.status_code == 202, sent.text
    path, form = twilio.requests[-1]
    assert path.endswith(f"/Services/{twilio.service_sid}/Verifications")
    assert form == {"To": phone, "Channel": "sms", "Locale": "zh"}  # Verify writes the text, in Chinese
    # The platform never saw the code: nothing went through the console sender.
    assert await SmsMessage.count().where(SmsMessage.to == phone) == 0

    wrong = await twilio_client.post("/m/v1/auth/login", json={"phone": phone, "code": "999999"})
    assert wrong.status_code == 401
    right = await twilio_client.post("/m/v1/auth/login", json={"phone": phone, "code": twilio.codes[phone]})
    assert right.status_code == 200, right.text
    assert (await twilio_client.get("/m/v1/me", headers=bearer(right.json()))).json()["phone"] == phone
    # Verify forgets an approved verification: the same code cannot be used again.
    again = await twilio_client.post("/m/v1/auth/login", json={"phone": phone, "code": "123456"})
    assert again.status_code == 401


async def test_a_number_twilio_rejects_is_a_422_naming_the_phone(twilio_client):
    response = await twilio_client.post(
        "/m/v1/auth/code", json={"phone": UNDELIVERABLE}, headers={"X-Forwarded-For": random_address()}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "phone"


async def test_bad_twilio_credentials_are_a_503_not_a_crash(twilio):
    app = create_app(dataclasses.replace(get_settings(), twilio=_settings(twilio, token="wrong")))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/m/v1/auth/code", json={"phone": random_phone()}, headers={"X-Forwarded-For": random_address()}
        )
    await app.state.services.close()
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/service-unavailable"


async def test_sms_sender_sends_through_twilio_messages(twilio):
    client = make_twilio_client(_settings(twilio))
    try:
        message = await TwilioSmsSender(client, "+15005550006").send(
            "+8613911112222", "Check-in window opens"
        )
    finally:
        await client.http_client.close()
    assert twilio.messages[-1] == {
        "To": "+8613911112222",
        "From": "+15005550006",
        "Body": "Check-in window opens",
    }
    stored = await SmsMessage.objects().where(SmsMessage.id == message.id).first()
    assert stored.status == "sent" and stored.provider_id.startswith("SM")
