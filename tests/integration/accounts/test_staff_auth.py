"""Staff login: password + TOTP, lockout, password change, session idle and absolute limits."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyotp

from backend.accounts.tables import AuthSession, LoginGuard
from backend.core.clock import utcnow
from tests.support.api import allow_code_reuse, bearer, demo_staff, staff_login


async def _new_officer(client, demo_logins, username: str, password: str = "correct horse battery") -> dict:
    admin = await demo_staff(client, demo_logins, "admin")
    police = next(
        a
        for a in (await client.get("/api/v1/agencies", headers=bearer(admin))).json()["items"]
        if a["kind"] == "police"
    )
    created = await client.post(
        "/api/v1/users",
        json={
            "role": "officer",
            "username": username,
            "display_name": "Test Officer",
            "password": password,
            "agency_id": police["id"],
        },
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    return created.json() | {"password": password}


async def test_password_and_totp_log_in(client, demo_logins):
    officer = await _new_officer(client, demo_logins, "officer.login")
    assert officer["totp_uri"].startswith("otpauth://totp/")
    tokens = await staff_login(client, "officer.login", officer["password"], officer["totp_secret"])
    me = await client.get("/api/v1/me", headers=bearer(tokens))
    assert me.json()["username"] == "officer.login"
    assert me.json()["role"] == "officer"


async def test_an_authenticator_code_works_once(client, demo_logins):
    """RFC 6238 5.2: a code seen over a shoulder or replayed from a captured request is refused, even while
    it is still current; the next step's code works."""
    import time

    officer = await _new_officer(client, demo_logins, "officer.once")
    totp = pyotp.TOTP(officer["totp_secret"])
    now = time.time()
    body = {"username": "officer.once", "password": officer["password"], "totp": totp.at(now)}
    first, replayed = await asyncio.gather(
        client.post("/api/v1/auth/login", json=body), client.post("/api/v1/auth/login", json=body)
    )
    assert sorted([first.status_code, replayed.status_code]) == [200, 401]
    assert (await client.post("/api/v1/auth/login", json=body)).status_code == 401
    earlier = body | {"totp": totp.at(now - 30)}  # still inside the drift window, but before the one used
    assert (await client.post("/api/v1/auth/login", json=earlier)).status_code == 401
    later = body | {"totp": totp.at(now + 30)}  # the next step (a phone clock a little ahead)
    assert (await client.post("/api/v1/auth/login", json=later)).status_code == 200


async def test_wrong_totp_or_password_is_refused_alike(client, demo_logins):
    officer = await _new_officer(client, demo_logins, "officer.wrong")
    secret = officer["totp_secret"]
    bad_totp = await client.post(
        "/api/v1/auth/login",
        json={"username": "officer.wrong", "password": officer["password"], "totp": "000000"},
    )
    bad_password = await client.post(
        "/api/v1/auth/login",
        json={"username": "officer.wrong", "password": "nope-nope-nope", "totp": pyotp.TOTP(secret).now()},
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": "nobody.here", "password": "whatever-long", "totp": "123456"}
    )
    assert bad_totp.status_code == bad_password.status_code == unknown.status_code == 401
    assert bad_totp.json()["detail"] == bad_password.json()["detail"] == unknown.json()["detail"]


async def test_five_wrong_passwords_lock_the_account_until_it_expires(client, demo_logins):
    officer = await _new_officer(client, demo_logins, "officer.lock")
    body = {"username": "officer.lock", "password": "wrong-password!", "totp": "123456"}
    for _ in range(5):
        assert (await client.post("/api/v1/auth/login", json=body)).status_code == 401
    good = {
        "username": "officer.lock",
        "password": officer["password"],
        "totp": pyotp.TOTP(officer["totp_secret"]).now(),
    }
    locked = await client.post("/api/v1/auth/login", json=good)
    assert locked.status_code == 423
    assert int(locked.headers["retry-after"]) >= 25
    await LoginGuard.update({LoginGuard.locked_until: utcnow() - timedelta(seconds=1)}).where(
        LoginGuard.subject == "user:officer.lock@127.0.0.1"
    )
    assert (await client.post("/api/v1/auth/login", json=good)).status_code == 200


async def test_guessing_from_elsewhere_cannot_lock_an_officer_out(client, app, demo_logins):
    """Five failures lock the guessing address, not the officer at their own desk; guessing spread over many
    addresses locks the account for new addresses only."""
    import httpx

    def elsewhere(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    officer = await _new_officer(client, demo_logins, "officer.desk")
    good = lambda: {  # noqa: E731 - a fresh TOTP code each time
        "username": "officer.desk",
        "password": officer["password"],
        "totp": pyotp.TOTP(officer["totp_secret"]).now(),
    }
    assert (await client.post("/api/v1/auth/login", json=good())).status_code == 200  # the usual desk
    await allow_code_reuse("officer.desk")
    wrong = {"username": "officer.desk", "password": "wrong-password!", "totp": "123456"}
    async with elsewhere("203.0.113.7") as attacker:
        for _ in range(5):
            assert (await attacker.post("/api/v1/auth/login", json=wrong)).status_code == 401
        assert (await attacker.post("/api/v1/auth/login", json=good())).status_code == 423
    assert (await client.post("/api/v1/auth/login", json=good())).status_code == 200
    await allow_code_reuse("officer.desk")

    # 20 failures from four more addresses: the account is guarded against new addresses...
    for n in range(4):
        async with elsewhere(f"198.51.100.{n}") as attacker:
            for _ in range(5):
                assert (await attacker.post("/api/v1/auth/login", json=wrong)).status_code == 401
    async with elsewhere("192.0.2.50") as new_place:
        assert (await new_place.post("/api/v1/auth/login", json=good())).status_code == 423
    # ...while the officer's own desk still gets in.
    assert (await client.post("/api/v1/auth/login", json=good())).status_code == 200


async def test_password_change_ends_every_session(client, demo_logins):
    officer = await _new_officer(client, demo_logins, "officer.pw")
    one = await staff_login(client, "officer.pw", officer["password"], officer["totp_secret"])
    two = await staff_login(client, "officer.pw", officer["password"], officer["totp_secret"])
    await allow_code_reuse("officer.pw")
    weak = await client.post(
        "/api/v1/auth/password",
        json={
            "current_password": officer["password"],
            "new_password": "short",
            "totp": pyotp.TOTP(officer["totp_secret"]).now(),
        },
        headers=bearer(one),
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    await allow_code_reuse("officer.pw")
    changed = await client.post(
        "/api/v1/auth/password",
        json={
            "current_password": officer["password"],
            "new_password": "a much better passphrase",
            "totp": pyotp.TOTP(officer["totp_secret"]).now(),
        },
        headers=bearer(one),
    )
    assert changed.status_code == 200
    assert changed.json()["sessions_ended"] >= 2
    for tokens in (one, two):
        assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401
    await allow_code_reuse("officer.pw")
    old = await client.post(
        "/api/v1/auth/login",
        json={
            "username": "officer.pw",
            "password": officer["password"],
            "totp": pyotp.TOTP(officer["totp_secret"]).now(),
        },
    )
    assert old.status_code == 401
    await staff_login(client, "officer.pw", "a much better passphrase", officer["totp_secret"])


async def test_idle_console_session_expires(client, demo_logins):
    tokens = await demo_staff(client, demo_logins, "judge")
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 200
    await AuthSession.update({AuthSession.last_seen_at: utcnow() - timedelta(minutes=31)}).where(
        AuthSession.id == tokens["session_id"]
    )
    idle = await client.get("/api/v1/me", headers=bearer(tokens))
    assert idle.status_code == 401
    assert "idle" in idle.json()["detail"]


async def test_absolute_session_limit(client, demo_logins):
    tokens = await demo_staff(client, demo_logins, "judge")
    await AuthSession.update({AuthSession.expires_at: utcnow() - timedelta(seconds=1)}).where(
        AuthSession.id == tokens["session_id"]
    )
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


async def test_staff_logout(client, demo_logins):
    tokens = await demo_staff(client, demo_logins, "prosecutor")
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code == 401
