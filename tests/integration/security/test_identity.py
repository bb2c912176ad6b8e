"""Identity: one number is one account and one set of limits whatever digits it is written in; codes are
ASCII digits; refresh tokens are bound to the channel their session was opened on; password checks do not
run on the event loop.

Before the fix: the same number in fullwidth digits escaped the per-number SMS limit and created a second
account; authenticator digits in another script with the right password answered 500 and counted nothing;
a console refresh token refreshed on /m/v1; 16 wrong logins in flight held up /health."""

from __future__ import annotations

import asyncio
import uuid

from backend.accounts.tables import LoginGuard, User
from tests.support.api import (
    demo_staff,
    last_code,
    phone_login,
    random_address,
    random_phone,
    staff_credentials,
)

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _field(response) -> str:
    return response.json()["errors"][0]["field"]


async def test_a_number_in_fullwidth_digits_is_the_same_account_and_the_same_limits(client):
    phone = random_phone()
    # Written as a person might type it on a phone with a Chinese keyboard: fullwidth digits and spaces.
    fullwidth = "＋" + " ".join((phone[1:3], phone[3:6], phone[6:10], phone[10:])).translate(FULLWIDTH)
    first = await client.post(
        "/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": random_address()}
    )
    assert first.status_code == 202
    # The per-number limit (one code per 30 s) holds for the same number written differently.
    again = await client.post(
        "/m/v1/auth/code", json={"phone": fullwidth}, headers={"X-Forwarded-For": random_address()}
    )
    assert again.status_code == 429, again.text
    login = await client.post("/m/v1/auth/login", json={"phone": fullwidth, "code": await last_code(phone)})
    assert login.status_code == 200, login.text
    me = await client.get("/m/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["phone"] == phone
    assert await User.count().where(User.phone == phone) == 1
    assert await User.count().where(User.phone == fullwidth) == 0


async def test_a_number_no_region_assigns_is_refused_naming_the_phone(client):
    for invalid in ("+86100000000", "+999123456789"):
        response = await client.post(
            "/m/v1/auth/code", json={"phone": invalid}, headers={"X-Forwarded-For": random_address()}
        )
        assert response.status_code in (400, 422), response.text
        assert _field(response) == "phone"


async def test_a_login_code_in_another_script_is_a_4xx_naming_the_code(client):
    phone = random_phone()
    await client.post("/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": random_address()})
    code = await last_code(phone)
    response = await client.post(
        "/m/v1/auth/login", json={"phone": phone, "code": code.translate(ARABIC_INDIC)}
    )
    assert response.status_code in (400, 422), response.text
    assert _field(response) == "code"
    # Refused before judging: the code is still pending and works.
    assert (await client.post("/m/v1/auth/login", json={"phone": phone, "code": code})).status_code == 200


async def test_authenticator_digits_in_another_script_with_the_right_password_are_a_counted_failure(
    client, demo_logins
):
    officer = staff_credentials(demo_logins, "officer")
    address = random_address()
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": "officer", "password": officer["password"], "totp": "١٢٣٤٥٦"},
        headers={"X-Forwarded-For": address},
    )
    if response.status_code == 401:  # judged: the password alone does not log in, and the attempt counts
        guard = await LoginGuard.objects().where(LoginGuard.subject == f"user:officer@{address}").first()
        assert guard is not None and guard.failures == 1
    else:  # or refused as malformed before anything is judged
        assert response.status_code in (400, 422), response.text
        assert _field(response) == "totp"


async def test_refresh_tokens_work_only_on_their_own_channel(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    phone = await phone_login(client)
    crossed = [
        ("/m/v1/auth/refresh", officer["refresh_token"]),
        ("/api/v1/auth/refresh", phone["refresh_token"]),
    ]
    for path, token in crossed:
        response = await client.post(path, json={"refresh_token": token})
        assert response.status_code == 401, (path, response.text)
    # A token tried on the wrong channel was not spent: it still works where it belongs.
    for path, tokens in (("/api/v1/auth/refresh", officer), ("/m/v1/auth/refresh", phone)):
        response = await client.post(path, json={"refresh_token": tokens["refresh_token"]})
        assert response.status_code == 200, (path, response.text)


async def test_password_checks_run_off_the_event_loop(client):
    """Eight wrong logins are in flight (each counted, so each is past its lockout step and at the password
    check); /health, on the same event loop, answers before any of them."""
    names = [f"nobody.{uuid.uuid4().hex[:12]}" for _ in range(8)]
    addresses = [random_address() for _ in names]
    logins = [
        asyncio.create_task(
            client.post(
                "/api/v1/auth/login",
                json={"username": name, "password": "wrong-password!", "totp": "123456"},
                headers={"X-Forwarded-For": address},
            )
        )
        for name, address in zip(names, addresses, strict=True)
    ]
    subjects = [f"user:{name}@{address}" for name, address in zip(names, addresses, strict=True)]
    while await LoginGuard.count().where(LoginGuard.subject.is_in(subjects)) < len(subjects):
        assert not any(login.done() for login in logins)
        await asyncio.sleep(0.005)
    health = await client.get("/health")
    assert health.status_code == 200
    assert not any(login.done() for login in logins)
    assert [(await login).status_code for login in logins] == [401] * len(logins)
