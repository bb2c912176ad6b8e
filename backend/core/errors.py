"""Domain errors. Services raise these; the web layer turns them into RFC 9457 problem responses.

Each kind has a stable `type` slug that clients can switch on; it never changes once published.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status = 400
    type = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    type = "invalid-input"
    title = "Invalid input"

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}", errors=[FieldError(field_name, message)])


class NotAuthenticated(DomainError):
    status = 401
    type = "not-authenticated"
    title = "Authentication required"


class InvalidCredentials(DomainError):
    status = 401
    type = "invalid-credentials"
    title = "Invalid credentials"


class Forbidden(DomainError):
    status = 403
    type = "forbidden"
    title = "Not allowed for this role"


class NotFound(DomainError):
    """Unknown ids and ids the caller may not see look the same, so existence never leaks."""

    status = 404
    type = "not-found"
    title = "Not found"

    def __init__(self, object_type: str) -> None:
        super().__init__(f"No {object_type} with that id")


class Conflict(DomainError):
    status = 409
    type = "conflict"
    title = "Conflict"


class Locked(DomainError):
    status = 423
    type = "account-locked"
    title = "Account temporarily locked"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed attempts; try again in {retry_after} s", retry_after=retry_after)
        self.retry_after = retry_after


class RateLimited(DomainError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, what: str = "requests") -> None:
        super().__init__(f"Too many {what}; try again in {retry_after} s", retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status = 503
    type = "service-unavailable"
    title = "A dependency is unavailable"


class PreconditionRequired(DomainError):
    """Something must happen first (e.g. acknowledging the rights notice before checking in)."""

    status = 409
    type = "precondition-required"
    title = "A required step is missing"
