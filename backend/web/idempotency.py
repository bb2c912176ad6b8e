"""Idempotency-Key on POSTs that create something: a retry with the same key never repeats a state change.

1. Before any body is read, a route that needs a principal authenticates its caller (a live session, not
   just the token's signature): a tokenless caller's body is never buffered, and a stored response is
   replayed only to a live session of the caller who made it. The body is then read up to the route's own
   limit (`request_max_body_size`) and refused with 413 the moment it passes it.
2. The key is claimed in one statement of its own (INSERT ... ON CONFLICT DO NOTHING RETURNING): a record
   with no response yet, a claim token and the time of the claim (its lease).
3. The request runs like any other: its services open their own write transactions, so no write lock is
   held while it works (a keyed check-in verifies a face with the database free). The first write
   transaction that commits inside the request also marks the claim applied, as its last statement
   (`engine.set_commit_hook`): once its state change is committed, the key can never run again.
4. The response is stored in one statement. A non-2xx answer that changed nothing releases the key (the
   client may fix and retry); an answer after a state change is kept whatever its status.

A retry with the same key and body gets the stored response (`Idempotent-Replayed: true`); while the first
is still in flight, 409 with Retry-After; if the first applied but died before its response was stored,
409 `idempotency-key-applied` (never a second state change). The same key with another body is a 422. A
claim whose process died before it applied is taken over once its lease has run out (a conditional
UPDATE); the lost claimant can then commit nothing. Handlers opt out with opt={"idempotency": False}
(logins: a failed attempt must count against the lockout whatever the key).

The statements live in backend.ops.store, beside the table (backend.ops.tables.IdempotencyRecord).
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.clock import as_utc, utcnow
from backend.core.context import request_id_var
from backend.core.errors import DomainError
from backend.db.engine import after_commit, reset_commit_hook, set_commit_hook
from backend.ops import store
from backend.web.deps import audience_of, authenticate
from backend.web.problems import PROBLEM_JSON
from backend.web.providers import services_of

MAX_KEY = 128
# How long a claim holds its key without an answer before another attempt may take it over (a request
# that outlives it can still answer, but can no longer commit a state change).
LEASE = timedelta(seconds=60)
RETRY_AFTER_S = 1
DEFAULT_MAX_BODY = 10 * 1024 * 1024  # Litestar's own default request_max_body_size


class IdempotencyClaimLost(DomainError):
    """The request outlived its lease and a retry took its key over: it must not commit anything now."""

    status = 409
    type = "idempotency-key-in-flight"
    title = "Idempotency-Key in flight"


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


@dataclass
class _Claim:
    id: uuid.UUID
    token: str
    applied: bool = False  # set once a state change of this request has committed
    live: bool = True  # the request is still running: later writes (background tasks) are not its own

    async def mark_applied(self) -> None:
        """The commit hook: the last statement of each outermost write transaction inside the request."""
        if not self.live or self.applied:
            return
        if not await store.mark_key_applied(self.id, self.token, utcnow()):
            raise IdempotencyClaimLost(
                "This request ran past its Idempotency-Key's lease and a retry took the key over; "
                "nothing was saved",
                retry_after=RETRY_AFTER_S,
            )
        after_commit(self._applied)

    async def _applied(self) -> None:
        self.applied = True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


KEY_HEADER = "Idempotency-Key"


def _problem(
    scope: Scope,
    status: int,
    slug: str,
    title: str,
    detail: str,
    retry_after: int | None = None,
    field: str | None = None,
) -> list[Message]:
    """The app's problem shape (backend.web.problems), written out here: this runs outside Litestar.
    A refusal of the key itself names the header as its field; none of these is a replay."""
    body: dict = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope.get("path"),
        "request_id": request_id_var.get(),
    }
    if field is not None:
        body["errors"] = [{"field": field, "message": detail}]
    headers = [(b"content-type", PROBLEM_JSON.encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": json.dumps(body).encode()},
    ]


def _domain_problem(scope: Scope, exc: DomainError) -> list[Message]:
    retry_after = exc.extra.get("retry_after")
    return _problem(scope, exc.status, exc.type, exc.title, exc.detail, retry_after)  # type: ignore[arg-type]


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        handler = scope.get("route_handler")
        if (
            key is None
            or scope["method"] != "POST"
            or (handler is not None and handler.opt.get("idempotency") is False)
        ):
            await app(scope, receive, send)
            return
        if not 1 <= len(key) <= MAX_KEY:
            title, detail = "The request is malformed", f"must be 1-{MAX_KEY} characters"
            await _send(send, _problem(scope, 400, "invalid-request", title, detail, field=KEY_HEADER))
            return
        limit = _body_limit(handler)
        try:
            caller = await _caller(scope, handler)
            body = await _read_capped(scope, receive, limit)
        except DomainError as exc:
            await _send(send, _domain_problem(scope, exc))
            return
        except _TooLarge:
            detail = f"This operation takes bodies of at most {limit} bytes"
            await _send(send, _problem(scope, 413, "payload-too-large", "Payload too large", detail))
            return
        except _Disconnected:
            return
        request_hash = hashlib.sha256(
            scope["method"].encode() + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        claimed = await _claim(scope, f"{caller}:{key}"[:200], request_hash)
        if isinstance(claimed, list):
            await _send(send, claimed)
            return
        await _send(send, await _run(app, scope, body, claimed))

    return middleware


async def _send(send: Send, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


async def _run(app: ASGIApp, scope: Scope, body: bytes, claim: _Claim) -> list[Message]:
    """Run the request under its claim; store or release the claim by what it did and answered."""
    buffered: list[Message] = []
    status = 500

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        buffered.append(message)

    hook = set_commit_hook(claim.mark_applied)
    try:
        await app(scope, _replay_body(body), capture)
    except BaseException:
        claim.live = False
        if not claim.applied:
            await store.release_key(claim.id, claim.token)
        raise
    finally:
        claim.live = False
        reset_commit_hook(hook)
    if claim.applied or 200 <= status < 300:
        await _store(claim, status, buffered)
    elif not await store.release_key(claim.id, claim.token):
        await _store(claim, status, buffered)  # it applied after all (or was taken over: then a no-op)
    return buffered


async def _store(claim: _Claim, status: int, messages: list[Message]) -> None:
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    await store.store_key_response(claim.id, claim.token, status, _content_type(messages), body)


async def _claim(scope: Scope, scoped_key: str, request_hash: str) -> _Claim | list[Message]:
    """Claim the key, or the answer for a key that is already held: a replay, 409 or 422."""
    for _ in range(3):
        token, now = str(uuid.uuid4()), utcnow()
        if (row := await store.claim_key(scoped_key, request_hash, token, now)) is not None:
            return _Claim(row["id"], token)
        existing = await store.key_record(scoped_key)
        if existing is None:
            continue  # released meanwhile (the first attempt failed): claim it afresh
        if existing["request_hash"] != request_hash:
            return _problem(
                scope,
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "This Idempotency-Key was already used with a different request body",
                field=KEY_HEADER,
            )
        if existing["status_code"] is not None:
            return _stored_response(existing)
        claimed_at = existing["claimed_at"]
        if claimed_at is None or as_utc(claimed_at) + LEASE > now:
            return _in_flight(scope)
        if existing["applied_at"] is not None:
            return _problem(
                scope,
                409,
                "idempotency-key-applied",
                "Idempotency-Key already applied",
                "The request with this Idempotency-Key was carried out, but its response was not kept; "
                "look the result up instead of sending it again",
            )
        if await store.take_over_key(existing["id"], request_hash, token, now, now - LEASE):
            return _Claim(existing["id"], token)
    return _in_flight(scope)


def _in_flight(scope: Scope) -> list[Message]:
    return _problem(
        scope,
        409,
        "idempotency-key-in-flight",
        "Idempotency-Key in flight",
        "A request with this Idempotency-Key is still being processed; retry shortly",
        RETRY_AFTER_S,
    )


async def _caller(scope: Scope, handler) -> str:
    """Whom the key belongs to. A route that needs a principal checks the session live, here, before the
    body is read (the guard then finds it done); other routes scope keys by the token's signed user id."""
    audience = audience_of(handler)
    if audience is not None:
        return (await authenticate(ASGIConnection(scope), audience)).user_id
    auth = _header(scope, b"authorization") or ""
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    sessions = services_of(ASGIConnection(scope)).sessions if token else None
    uid = sessions.caller_of(token) if sessions else None
    return uid or "anonymous"


def _body_limit(handler) -> float:
    if handler is None:
        return DEFAULT_MAX_BODY
    limit = handler.resolve_request_max_body_size()
    return math.inf if limit is None else limit


async def _read_capped(scope: Scope, receive: Receive, limit: float) -> bytes:
    """The whole body, read chunk by chunk and abandoned the moment it passes `limit`."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body += message.get("body", b"")
        if len(body) > limit:
            raise _TooLarge
        if not message.get("more_body"):
            return bytes(body)


def _replay_body(body: bytes) -> Receive:
    """The handler reads the body we already consumed."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _content_type(messages: list[Message]) -> str:
    for message in messages:
        if message["type"] == "http.response.start":
            for key, value in message.get("headers", []):
                if key.lower() == b"content-type":
                    return value.decode("latin-1")
    return "application/json"


def _stored_response(record: dict) -> list[Message]:
    return [
        {
            "type": "http.response.start",
            "status": record["status_code"],
            "headers": [
                (b"content-type", (record["content_type"] or "application/json").encode()),
                (b"idempotent-replayed", b"true"),
            ],
        },
        {"type": "http.response.body", "body": bytes(record["response_body"] or b"")},
    ]
