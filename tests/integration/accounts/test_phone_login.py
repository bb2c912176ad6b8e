"""Phone login with one-time codes: the console sender, lockout, rate limits, refresh and logout."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.tables import LoginGuard, User
from backend.core.clock import utcnow
from tests.support.api import bearer, last_code, phone_login, random_address, random_phone


async def test_new_number_becomes_a_citizen_and_sees_itself(client):
    tokens = await phone_login(client)
    me = await client.get("/m/v1/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["role"] == "citizen"
    assert me.json()["phone"] == tokens["phone"]
    assert await User.count().where(User.phone == tokens["phone"]) == 1


async def test_enrolled_supervisee_logs_in_as_supervisee(client):
    tokens = await phone_login(client, "+8613800000002")
    assert (await client.get("/m/v1/me", headers=bearer(tokens))).json()["role"] == "supervisee"


async def test_code_is_single_use(client):
    phone, headers = random_phone(), {"X-Forwarded-For": random_address()}
    await client.post("/m/v1/auth/code", json={"phone": phone}, headers=headers)
    code = await last_code(phone)
    first = await client.post("/m/v1/auth/login", json={"phone": phone, "code": code}, headers=headers)
    again = await client.post("/m/v1/auth/login", json={"phone": phone, "code": code}, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json()["type"] == "/problems/invalid-credentials"


async def _wrong_code(client, phone):
    return await client.post("/m/v1/auth/login", json={"phone": phone, "code": "000000"})


async def test_five_wrong_codes_lock_and_the_lock_expires_and_doubles(client):
    phone = random_phone()
    await client.post("/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": random_address()})
    for _ in range(4):
        assert (await _wrong_code(client, phone)).status_code == 401
    fifth = await _wrong_code(client, phone)
    assert fifth.status_code == 401
    locked = await _wrong_code(client, phone)
    assert locked.status_code == 423
    assert locked.json()["type"] == "/problems/account-locked"
    assert 25 <= int(locked.headers["retry-after"]) <= 31
    # Even the right code is refused while locked.
    right = await client.post("/m/v1/auth/login", json={"phone": phone, "code": await last_code(phone)})
    assert right.status_code == 423

    # Time passes: move the lock into the past instead of sleeping.
    await LoginGuard.update({LoginGuard.locked_until: utcnow() - timedelta(seconds=1)}).where(
        LoginGuard.subject == f"phone:{phone}"
    )
    for _ in range(5):
        assert (await _wrong_code(client, phone)).status_code == 401
    relocked = await _wrong_code(client, phone)
    assert relocked.status_code == 423
    assert 55 <= int(relocked.headers["retry-after"]) <= 61  # doubled

    await LoginGuard.update({LoginGuard.locked_until: utcnow() - timedelta(seconds=1)}).where(
        LoginGuard.subject == f"phone:{phone}"
    )
    await _age_rate_limit(phone)
    tokens = await phone_login(client, phone)  # a fresh code after the lock works
    assert tokens["access_token"]
    assert not await LoginGuard.exists().where(LoginGuard.subject == f"phone:{phone}")


async def test_the_right_code_as_the_fifth_attempt_logs_in_and_clears_the_count(client):
    """The fifth attempt reaches the limit when it is counted, before it is judged; if it is right, it
    logs in and the count is forgotten (no other attempt came after it)."""
    phone = random_phone()
    await client.post("/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": random_address()})
    for _ in range(4):
        assert (await _wrong_code(client, phone)).status_code == 401
    right = await client.post("/m/v1/auth/login", json={"phone": phone, "code": await last_code(phone)})
    assert right.status_code == 200, right.text
    assert not await LoginGuard.exists().where(LoginGuard.subject == f"phone:{phone}")


async def test_code_requests_are_rate_limited_per_number(client):
    phone = random_phone()
    first = await client.post(
        "/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": random_address()}
    )
    second = await client.post(
        "/m/v1/auth/code", json={"phone": phone}, headers={"X-Forwarded-For": random_address()}
    )
    assert first.status_code == 202
    assert second.status_code == 429
    assert second.json()["type"] == "/problems/rate-limited"
    assert int(second.headers["retry-after"]) > 0


async def test_code_requests_are_rate_limited_per_client_address(client):
    address = random_address()
    statuses = [
        (
            await client.post(
                "/m/v1/auth/code", json={"phone": random_phone()}, headers={"X-Forwarded-For": address}
            )
        ).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [202] * 20
    assert statuses[20] == 429


async def test_refresh_rotates_and_reuse_ends_the_session(client):
    tokens = await phone_login(client)
    rotated = await client.post("/m/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert (await client.get("/m/v1/me", headers=bearer(new))).status_code == 200

    stolen = await client.post("/m/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert stolen.status_code == 401
    # Reuse of the old token ends the session, so the new tokens die too.
    assert (await client.get("/m/v1/me", headers=bearer(new))).status_code == 401
    assert (
        await client.post("/m/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    ).status_code == 401


async def test_logout_revokes_access_and_refresh(client):
    tokens = await phone_login(client)
    assert (await client.post("/m/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    assert (await client.get("/m/v1/me", headers=bearer(tokens))).status_code == 401
    refresh = await client.post("/m/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


async def test_tampered_or_missing_token_is_401(client):
    tokens = await phone_login(client)
    forged = tokens["access_token"][:-2] + ("AA" if not tokens["access_token"].endswith("AA") else "BB")
    assert (await client.get("/m/v1/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    missing = await client.get("/m/v1/me")
    assert missing.status_code == 401
    assert missing.json()["type"] == "/problems/not-authenticated"


async def test_a_phone_user_can_end_another_of_their_sessions(client):
    phone = random_phone()
    first = await phone_login(client, phone)
    await _age_rate_limit(phone)
    second = await phone_login(client, phone)
    listed = (await client.get("/m/v1/me/sessions", headers=bearer(second))).json()["items"]
    assert {s["id"] for s in listed} >= {first["session_id"], second["session_id"]}
    assert [s["current"] for s in listed if s["id"] == second["session_id"]] == [True]
    ended = await client.delete(f"/m/v1/me/sessions/{first['session_id']}", headers=bearer(second))
    assert ended.status_code == 204
    assert (await client.get("/m/v1/me", headers=bearer(first))).status_code == 401
    assert (await client.get("/m/v1/me", headers=bearer(second))).status_code == 200


async def _age_rate_limit(phone: str) -> None:
    """Let the per-number minimum interval pass without sleeping."""
    from backend.ops.tables import RateHit

    await RateHit.update({RateHit.at: utcnow() - timedelta(minutes=2)}).where(RateHit.key == phone)
