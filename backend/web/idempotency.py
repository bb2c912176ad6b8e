"""Idempotency-Key on POSTs that create something.

The whole request runs in one write transaction together with the idempotency record: a 2xx response is
stored and committed with the state it created, so a retry with the same key replays it and creates
nothing. Any other response rolls everything back and stores nothing (the client may fix and retry).
The same key with a different body is refused with 422. Handlers opt out with opt={"idempotency": False}
(logins: a failed attempt must still count against the lockout).
"""

from __future__ import annotations

import hashlib
import json

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.db.engine import write_tx
from backend.ops.tables import IdempotencyRecord
from backend.web.problems import PROBLEM_JSON

MAX_KEY = 128
MAX_BODY = 1 << 20


class _Rollback(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _problem(status: int, slug: str, title: str, detail: str) -> list[Message]:
    body = json.dumps(
        {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    ).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode())],
        },
        {"type": "http.response.body", "body": body},
    ]


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
            for message in _problem(
                400, "invalid-idempotency-key", "Invalid Idempotency-Key", f"must be 1-{MAX_KEY} characters"
            ):
                await send(message)
            return

        body = await _read_body(receive)
        if len(body) > MAX_BODY:
            for message in _problem(
                413, "payload-too-large", "Payload too large", "JSON bodies are limited to 1 MiB"
            ):
                await send(message)
            return
        caller = _caller(scope)
        request_hash = hashlib.sha256(
            scope["method"].encode() + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        scoped_key = f"{caller}:{key}"[:200]

        replayed = False
        buffered: list[Message] = []
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            buffered.append(message)

        try:
            async with write_tx():
                existing = (
                    await IdempotencyRecord.objects()
                    .where(IdempotencyRecord.scoped_key == scoped_key)
                    .first()
                )
                if existing is not None:
                    replayed = True
                    if existing.request_hash != request_hash:
                        buffered = _problem(
                            422,
                            "idempotency-key-reused",
                            "Idempotency-Key reused",
                            "This Idempotency-Key was already used with a different request body",
                        )
                    else:
                        buffered = _stored_response(existing)
                else:
                    await app(scope, _replay_body(body), capture)
                    if not 200 <= status < 300:
                        raise _Rollback
                    await IdempotencyRecord.insert(
                        IdempotencyRecord(
                            scoped_key=scoped_key,
                            request_hash=request_hash,
                            status_code=status,
                            content_type=_content_type(buffered),
                            response_body=b"".join(
                                m.get("body", b"") for m in buffered if m["type"] == "http.response.body"
                            ),
                        )
                    )
        except _Rollback:
            pass
        for message in buffered:
            if replayed and message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"idempotent-replayed", b"true")]
            await send(message)

    return middleware


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


def _caller(scope: Scope) -> str:
    auth = _header(scope, b"authorization") or ""
    token = auth[7:] if auth.lower().startswith("bearer ") else ""
    sessions = scope["app"].state.get("sessions")
    uid = sessions.caller_of(token) if (token and sessions) else None
    return uid or "anonymous"


def _content_type(messages: list[Message]) -> str:
    for message in messages:
        if message["type"] == "http.response.start":
            for key, value in message.get("headers", []):
                if key.lower() == b"content-type":
                    return value.decode("latin-1")
    return "application/json"


def _stored_response(record: IdempotencyRecord) -> list[Message]:
    return [
        {
            "type": "http.response.start",
            "status": record.status_code,
            "headers": [(b"content-type", (record.content_type or "application/json").encode())],
        },
        {"type": "http.response.body", "body": bytes(record.response_body or b"")},
    ]
