"""Idempotency-Key on creating POSTs: a retry replays, a different body is refused, nothing is duplicated."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from datetime import timedelta

from backend.accounts.tables import User
from backend.core.clock import utcnow
from backend.ops.tables import IdempotencyRecord
from backend.web import idempotency
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


def _keyed(tokens: dict, key: str) -> dict:
    return bearer(tokens) | {"Idempotency-Key": key, "Content-Type": "application/json"}


def _supervisee_body() -> bytes:
    return json.dumps({"phone": random_phone(), "display_name": "Keyed", "region_code": "330106"}).encode()


async def test_a_logged_out_token_gets_401_not_the_stored_response(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    key, body = str(uuid.uuid4()), _supervisee_body()
    first = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert first.status_code == 201
    assert (await client.post("/api/v1/auth/logout", headers=bearer(officer))).status_code == 204
    retry = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert retry.status_code == 401
    assert retry.json()["type"] == "/problems/not-authenticated"
    assert "idempotent-replayed" not in retry.headers
    assert first.json()["id"] not in retry.text


async def test_a_retry_while_the_first_is_in_flight_is_409_with_retry_after(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    key, body = str(uuid.uuid4()), _supervisee_body()
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    await IdempotencyRecord.insert(
        IdempotencyRecord(
            scoped_key=f"{me['id']}:{key}",
            request_hash=_hash("/api/v1/supervisees", body),
            claim_token=str(uuid.uuid4()),
            claimed_at=utcnow(),
        )
    )
    retry = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert retry.status_code == 409, retry.text
    assert retry.json()["type"] == "/problems/idempotency-key-in-flight"
    assert int(retry.headers["retry-after"]) >= 1
    assert await User.count().where(User.phone == json.loads(body)["phone"]) == 0


async def test_a_claim_whose_process_died_is_taken_over_after_its_lease(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    key, body = str(uuid.uuid4()), _supervisee_body()
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    await IdempotencyRecord.insert(
        IdempotencyRecord(
            scoped_key=f"{me['id']}:{key}",
            request_hash=_hash("/api/v1/supervisees", body),
            claim_token=str(uuid.uuid4()),
            claimed_at=utcnow() - idempotency.LEASE - timedelta(seconds=1),
        )
    )
    retry = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert retry.status_code == 201, retry.text
    again = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == retry.json()
    assert await User.count().where(User.phone == json.loads(body)["phone"]) == 1


async def test_an_applied_request_whose_answer_was_lost_is_never_carried_out_again(
    client, demo_logins, monkeypatch
):
    """The process dies after the state change committed and before the response was kept: the claim was
    marked applied in the state change's own transaction, so no retry can create a second person."""
    officer = await demo_staff(client, demo_logins, "officer")
    key, body = str(uuid.uuid4()), _supervisee_body()
    phone = json.loads(body)["phone"]

    async def crash(*_args) -> None:
        raise RuntimeError("the process died before storing the response")

    with monkeypatch.context() as patch:
        patch.setattr(idempotency, "_store", crash)
        with contextlib.suppress(Exception):  # the ASGI transport hands the crash back to the test
            await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert await User.count().where(User.phone == phone) == 1
    while_leased = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert while_leased.status_code == 409
    assert while_leased.json()["type"] == "/problems/idempotency-key-in-flight"

    await IdempotencyRecord.update(
        {IdempotencyRecord.claimed_at: utcnow() - idempotency.LEASE - timedelta(seconds=1)}
    ).where(IdempotencyRecord.scoped_key.like(f"%:{key}"))
    after_lease = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert after_lease.status_code == 409, after_lease.text
    assert after_lease.json()["type"] == "/problems/idempotency-key-applied"
    assert await User.count().where(User.phone == phone) == 1


async def test_a_failure_after_nothing_changed_releases_the_key(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    key = str(uuid.uuid4())
    taken = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    body = json.dumps({"phone": random_phone(), "display_name": "   ", "region_code": "330106"}).encode()
    refused = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert refused.status_code == 422
    assert await IdempotencyRecord.count().where(IdempotencyRecord.scoped_key == f"{taken['id']}:{key}") == 0
    again = await client.post("/api/v1/supervisees", content=body, headers=_keyed(officer, key))
    assert again.status_code == 422 and "idempotent-replayed" not in again.headers


def _hash(path: str, body: bytes) -> str:
    return hashlib.sha256(b"POST" + path.encode() + b"\n" + body).hexdigest()
