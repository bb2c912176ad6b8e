"""Per-request context (request id, acting user) carried in contextvars so logs and audit rows see it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, or a named system job."""

    id: str
    role: str
    agency_id: str | None = None


SYSTEM = Actor(id="system", role="system")
