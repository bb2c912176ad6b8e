"""Records that must be unique, created by several requests at once: one is created, the others get a 409
naming the conflict, never a 500. The services check before they insert, but on PostgreSQL two
transactions can both pass the check; only the unique constraint is exact, and its refusal is a conflict."""

from __future__ import annotations

import asyncio
import secrets

from backend.accounts.tables import User
from tests.support.api import bearer, demo_staff, random_phone


async def _at_once(client, path: str, body: dict, headers: dict, n: int = 6) -> list:
    return await asyncio.gather(*(client.post(path, json=body, headers=headers) for _ in range(n)))


async def test_one_phone_enrolled_six_times_at_once_creates_one_person(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    body = {"phone": random_phone(), "display_name": "Same Person", "region_code": "330106"}
    answers = await _at_once(client, "/api/v1/supervisees", body, bearer(officer))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 5, [a.text[:200] for a in answers]
    assert all(a.json()["type"] == "/problems/conflict" for a in answers if a.status_code == 409)
    assert await User.count().where(User.phone == body["phone"]) == 1


async def test_one_username_created_six_times_at_once_creates_one_account(client, demo_logins):
    admin = await demo_staff(client, demo_logins, "admin")
    agencies = (await client.get("/api/v1/agencies/", headers=bearer(admin))).json()["items"]
    police = next(a for a in agencies if a["kind"] == "police")
    username = f"race.{secrets.token_hex(4)}"
    body = {
        "role": "officer",
        "username": username,
        "display_name": "Race Officer",
        "password": "a long enough passphrase 42",
        "agency_id": police["id"],
    }
    answers = await _at_once(client, "/api/v1/users", body, bearer(admin))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 5, [a.text[:200] for a in answers]
    assert await User.count().where(User.username == username) == 1
