"""Idempotency under concurrency: one key sent four times at once creates once and answers every copy
without a 5xx; a keyed request does not hold the database's write lock while its handler works.

Measured before the fix against two server workers on PostgreSQL: 201 and three 500s (a unique violation
on the record); on SQLite a keyed check-in ran face verification holding SQLite's one write lock."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import timedelta

import httpx

from backend.accounts.tables import User
from backend.core.clock import utcnow
from backend.db.engine import write_tx
from backend.ops.tables import IdempotencyRecord, RateHit
from backend.web.idempotency import LEASE, IdempotencyClaimLost, idempotency_middleware
from tests.support.api import bearer, demo_staff, random_phone
from tests.support.live_server import live_server

ROUNDS, COPIES = 6, 4


async def test_one_key_sent_four_times_at_once_creates_once_and_never_fails(demo_logins):
    with live_server({"WEB_WORKERS": "2"}) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            officer = await demo_staff(http, demo_logins, "officer")

        async def send(key: str, body: dict) -> httpx.Response:
            # A connection per copy, as retrying clients make them: both workers take part.
            async with httpx.AsyncClient(base_url=url, timeout=60) as retrying:
                return await retrying.post(
                    "/api/v1/supervisees", json=body, headers=bearer(officer) | {"Idempotency-Key": key}
                )

        rounds = []
        for _ in range(ROUNDS):
            key = str(uuid.uuid4())
            body = {"phone": random_phone(), "display_name": "Raced", "region_code": "330106"}
            rounds.append((body, await asyncio.gather(*(send(key, body) for _ in range(COPIES)))))

    for body, answers in rounds:
        statuses = sorted(a.status_code for a in answers)
        assert all(s < 500 for s in statuses), [a.text for a in answers]
        created = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
        assert len(created) == 1, statuses
        for other in answers:
            if other is created[0]:
                continue
            if other.status_code == 201:
                assert other.headers.get("idempotent-replayed") == "true"
                assert other.json() == created[0].json()
            else:
                assert other.status_code == 409, other.text
                assert other.json()["type"] == "/problems/idempotency-key-in-flight"
                assert int(other.headers["retry-after"]) >= 1
        assert await User.count().where(User.phone == body["phone"]) == 1


async def test_a_keyed_request_does_not_block_other_writers_while_its_handler_works():
    """The handler commits its state change, then works on (as a check-in verifies a face): meanwhile
    another write completes. Before, the whole keyed request was one write transaction, and on SQLite
    every other writer waited for the handler to finish."""
    working, finish = asyncio.Event(), asyncio.Event()
    order: list[str] = []
    calls = 0
    marker = f"keyed-{uuid.uuid4()}"

    async def slow_handler(scope, receive, send) -> None:
        nonlocal calls
        calls += 1
        await receive()
        async with write_tx():
            await RateHit.insert(RateHit(bucket="test-keyed", key=marker, at=utcnow()))
        working.set()
        await finish.wait()
        order.append("keyed request answered")
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"done": true}'})

    transport = httpx.ASGITransport(app=idempotency_middleware(slow_handler))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyed") as client:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        keyed = asyncio.create_task(client.post("/things", content=b"{}", headers=headers))
        await working.wait()

        async def other_writer() -> None:
            async with write_tx():
                await RateHit.insert(RateHit(bucket="test-other", key=marker, at=utcnow()))
            order.append("other write committed")

        other = asyncio.create_task(other_writer())
        # A guard against the old deadlock (the other writer waited for the keyed request, which waited
        # here), not a measurement.
        await asyncio.wait({other}, timeout=30)
        finish.set()
        first = await keyed
        await other
        retry = await client.post("/things", content=b"{}", headers=headers)

    assert order == ["other write committed", "keyed request answered"]
    assert first.status_code == 201
    assert retry.status_code == 201 and retry.headers.get("idempotent-replayed") == "true"
    assert calls == 1, "the retry ran the handler again"
    assert await RateHit.count().where((RateHit.key == marker) & (RateHit.bucket == "test-keyed")) == 1


async def test_a_dead_claim_taken_over_by_four_retries_at_once_runs_once(client, demo_logins):
    """A claim whose process died is taken over by one conditional UPDATE: of retries arriving together
    one runs the request, and the others wait for it or replay it."""
    officer = await demo_staff(client, demo_logins, "officer")
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    for _ in range(ROUNDS):
        key = str(uuid.uuid4())
        body = json.dumps({"phone": random_phone(), "display_name": "Dead", "region_code": "330106"}).encode()
        await IdempotencyRecord.insert(
            IdempotencyRecord(
                scoped_key=f"{me['id']}:{key}",
                request_hash=hashlib.sha256(b"POST/api/v1/supervisees\n" + body).hexdigest(),
                claim_token=str(uuid.uuid4()),
                claimed_at=utcnow() - LEASE - timedelta(seconds=1),
            )
        )
        headers = bearer(officer) | {"Idempotency-Key": key, "Content-Type": "application/json"}
        answers = await asyncio.gather(
            *(client.post("/api/v1/supervisees", content=body, headers=headers) for _ in range(COPIES))
        )
        statuses = [a.status_code for a in answers]
        fresh = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
        assert len(fresh) == 1 and all(s in (201, 409) for s in statuses), statuses
        assert await User.count().where(User.phone == json.loads(body)["phone"]) == 1


async def test_a_request_that_outlived_its_lease_cannot_commit_after_a_retry_took_over():
    marker = f"lease-{uuid.uuid4()}"
    working, finish = asyncio.Event(), asyncio.Event()
    first_call = True

    async def handler(scope, receive, send) -> None:
        nonlocal first_call
        await receive()
        if first_call:  # the first attempt stalls before its state change (a hung dependency)
            first_call = False
            working.set()
            await finish.wait()
        status = 201
        try:
            async with write_tx():
                await RateHit.insert(RateHit(bucket="test-lease", key=marker, at=utcnow()))
        except IdempotencyClaimLost:
            status = 409
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    transport = httpx.ASGITransport(app=idempotency_middleware(handler))
    async with httpx.AsyncClient(transport=transport, base_url="http://keyed") as client:
        key = str(uuid.uuid4())
        stalled = asyncio.create_task(client.post("/things", content=b"{}", headers={"Idempotency-Key": key}))
        await working.wait()
        await IdempotencyRecord.update(
            {IdempotencyRecord.claimed_at: utcnow() - LEASE - timedelta(seconds=1)}
        ).where(IdempotencyRecord.scoped_key == f"anonymous:{key}")
        retry = await client.post("/things", content=b"{}", headers={"Idempotency-Key": key})
        finish.set()
        late = await stalled
    assert retry.status_code == 201
    assert late.status_code == 409, "the attempt that lost its lease committed a second state change"
    assert await RateHit.count().where(RateHit.key == marker) == 1
