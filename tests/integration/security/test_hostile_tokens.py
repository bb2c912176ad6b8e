"""Odd bearer tokens on every authenticated operation of the OpenAPI document: each is a clean 401 (a header
such as "Bearer abc.é.def" answered 500: hmac.compare_digest raises on non-ASCII text)."""

from __future__ import annotations

import re
import uuid

import pytest

TOKENS = [
    "abc.é.def".encode(),  # UTF-8 bytes, read as Latin-1 by the server
    "中文.令牌".encode(),
    b"\xff\xfe.\x80",
    b"a" * 4000 + b"." + b"b" * 4000,
    b"e30.",  # an empty JSON object with no signature
    b".",
    b"x" * 64 + b".\x00",
]


def _concrete(path: str, operation: dict) -> str:
    """The path with each parameter filled by a value of its type (an unknown id: routing must match)."""
    kinds = {
        p["name"]: p.get("schema", {}).get("type")
        for p in operation.get("parameters", [])
        if p.get("in") == "path"
    }
    return re.sub(
        r"\{([^}]*)\}", lambda m: "1" if kinds.get(m.group(1)) == "integer" else str(uuid.uuid4()), path
    )


async def _secured_operations(client) -> list[tuple[str, str]]:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("security"):
                operations.append((method.upper(), _concrete(path, operation)))
    return operations


async def test_odd_bearer_tokens_are_a_401_on_every_secured_operation(client):
    operations = await _secured_operations(client)
    assert len(operations) > 30  # the document lists the console's and the phone's operations
    failures = []
    for method, path in operations:
        for token in TOKENS:
            response = await client.request(
                method,
                path,
                headers={b"authorization": b"Bearer " + token, b"content-type": b"application/json"},
                content=b"{}" if method in ("POST", "PUT", "PATCH") else None,
            )
            if response.status_code != 401:
                failures.append((method, path, token[:12], response.status_code, response.text[:120]))
    assert not failures, failures[:10]


@pytest.mark.parametrize("path", ["/api/v1/alerts/live/tickets"])
async def test_odd_bearer_tokens_do_not_get_a_live_alerts_ticket(client, path):
    for token in TOKENS:
        response = await client.post(path, headers={b"authorization": b"Bearer " + token})
        assert response.status_code == 401, (token[:12], response.text[:200])
