"""Idempotency-Key on creating POSTs: a retry replays, a different body is refused, nothing is duplicated."""

from __future__ import annotations

import uuid

from backend.accounts.tables import User
from tests.support.api import bearer, demo_staff, random_phone


async def test_retry_with_same_key_replays_and_creates_nothing_new(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    key = str(uuid.uuid4())
    body = {"phone": random_phone(), "display_name": "Retry Person", "region_code": "330106"}
    headers = bearer(officer) | {"Idempotency-Key": key}
    first = await client.post("/api/v1/supervisees", json=body, headers=headers)
    retry = await client.post("/api/v1/supervisees", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true"
    assert await User.count().where(User.phone == body["phone"]) == 1


async def test_same_key_with_a_different_body_is_422(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    headers = bearer(officer) | {"Idempotency-Key": str(uuid.uuid4())}
    body = {"phone": random_phone(), "display_name": "One", "region_code": "330106"}
    assert (await client.post("/api/v1/supervisees", json=body, headers=headers)).status_code == 201
    other = body | {"phone": random_phone()}
    reused = await client.post("/api/v1/supervisees", json=other, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert await User.count().where(User.phone == other["phone"]) == 0


async def test_a_failed_request_stores_nothing_and_can_be_retried(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    headers = bearer(officer) | {"Idempotency-Key": str(uuid.uuid4())}
    bad = {"phone": random_phone(), "display_name": "   ", "region_code": "330106"}
    assert (await client.post("/api/v1/supervisees", json=bad, headers=headers)).status_code == 422
    fixed = bad | {"display_name": "Fixed"}
    # The key was not spent on the failure, but it is bound to the body: a changed body is a new request.
    assert (await client.post("/api/v1/supervisees", json=fixed, headers=headers)).status_code == 201


async def test_keys_are_scoped_per_caller(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    admin = await demo_staff(client, demo_logins, "admin")
    key = str(uuid.uuid4())
    a = await client.post(
        "/api/v1/supervisees",
        json={"phone": random_phone(), "display_name": "A", "region_code": "330106"},
        headers=bearer(officer) | {"Idempotency-Key": key},
    )
    b = await client.post(
        "/api/v1/agencies",
        json={"kind": "court", "name": "Scoped Court", "region_code": "330400"},
        headers=bearer(admin) | {"Idempotency-Key": key},
    )
    assert a.status_code == 201 and b.status_code == 201
    assert b.json()["name"] == "Scoped Court"


async def test_without_a_key_a_second_post_is_a_new_request(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    body = {"phone": random_phone(), "display_name": "No Key", "region_code": "330106"}
    assert (await client.post("/api/v1/supervisees", json=body, headers=bearer(officer))).status_code == 201
    again = await client.post("/api/v1/supervisees", json=body, headers=bearer(officer))
    assert again.status_code == 409
