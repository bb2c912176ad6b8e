"""Helpers for the hostile-input tests: JSON as a hostile client writes it, and the fields a problem
names as refused."""

from __future__ import annotations

import json

DEEP = "[" * 1000 + "]" * 1000
SQUARE = [[[120.05, 30.20], [120.25, 30.20], [120.25, 30.35], [120.05, 30.35], [120.05, 30.20]]]


def hostile_json(value) -> str:
    """JSON as a hostile client writes it: infinity as 1e400, which JSON encoders refuse to write."""
    return json.dumps(value).replace("Infinity", "1e400")


def fields(response) -> list[str]:
    return [e["field"] for e in response.json().get("errors") or []]


def refused(response, status: int | tuple, field: str) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in fields(response), response.text
