"""Helpers that drive the API the way the phone app and the console do."""

from __future__ import annotations

import random
import re

import pyotp

from backend.accounts.tables import User
from backend.ops.tables import SmsMessage


def random_phone() -> str:
    return "+86139" + "".join(random.choice("0123456789") for _ in range(8))


def random_address() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


async def last_code(phone: str) -> str:
    message = (
        await SmsMessage.objects()
        .where(SmsMessage.to == phone)
        .order_by(SmsMessage.id, ascending=False)
        .first()
    )
    assert message is not None, f"no SMS recorded for {phone}"
    return re.search(r"\b(\d{6})\b", message.body).group(1)


async def phone_login(client, phone: str | None = None, address: str | None = None) -> dict:
    """Request a code, read it from the console sender's record, log in. Returns the token response."""
    phone = phone or random_phone()
    headers = {"X-Forwarded-For": address or random_address()}
    sent = await client.post("/m/v1/auth/code", json={"phone": phone}, headers=headers)
    assert sent.status_code == 202, sent.text
    response = await client.post(
        "/m/v1/auth/login", json={"phone": phone, "code": await last_code(phone)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json() | {"phone": phone}


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def staff_credentials(demo_logins: dict, username: str) -> dict:
    return next(s for s in demo_logins["staff"] if s["username"] == username)


async def allow_code_reuse(username: str) -> None:
    """Authenticator codes work once (one login per 30 s step); tests log the same officer in more often
    than that. This forgets the last step accepted. Single use itself is tested in test_staff_auth."""
    await User.update({User.totp_last_step: None}).where(User.username == username)


async def staff_login(client, username: str, password: str, totp_secret: str) -> dict:
    await allow_code_reuse(username)
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "totp": pyotp.TOTP(totp_secret).now()},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def demo_staff(client, demo_logins: dict, username: str) -> dict:
    creds = staff_credentials(demo_logins, username)
    return await staff_login(client, creds["username"], creds["password"], creds["totp_secret"])


async def sms_code_in(database_url: str, phone: str) -> str:
    """The last login code recorded for `phone` in another process's database (a live server's own)."""
    import sqlite3

    import asyncpg

    sql = 'SELECT body FROM sms_messages WHERE "to" = {} ORDER BY id DESC LIMIT 1'
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            body = db.execute(sql.format("?"), (phone,)).fetchone()[0]
    else:
        conn = await asyncpg.connect(database_url)
        try:
            body = await conn.fetchval(sql.format("$1"), phone)
        finally:
            await conn.close()
    return re.search(r"\b(\d{6})\b", body).group(1)
