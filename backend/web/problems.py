"""RFC 9457 problem-details responses, one stable `type` per error kind."""

from __future__ import annotations

import logging
import re
import sqlite3

from asyncpg.exceptions import UniqueViolationError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.core.context import request_id_var
from backend.core.errors import DomainError

log = logging.getLogger("remotecase.errors")
PROBLEM_JSON = "application/problem+json"

_HTTP_TYPES = {
    400: ("invalid-request", "The request is malformed"),
    401: ("not-authenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


def problem(
    status: int, slug: str, title: str, detail: str, request: Request | None = None, **extra
) -> Response:
    body = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path if request is not None else None,
        "request_id": request_id_var.get(),
        **{k: v for k, v in extra.items() if v is not None},
    }
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    errors = [{"field": e.field, "message": e.message} for e in exc.errors] or None
    return problem(exc.status, exc.type, exc.title, exc.detail, request, errors=errors, **exc.extra)


_MSGSPEC_PATH = re.compile(r"\s*-?\s*at `\$\.?([^`]*)`")
# msgspec names a missing or unknown field in its words, not in its path: the field is the one named.
_NAMED_FIELD = re.compile(r"^Object (missing required|contains unknown) field `([^`]*)`$")
_NAMED_MESSAGES = {"missing required": "is required", "contains unknown": "is not a known field"}
BODY_PARAMETER = "data"  # Litestar's name for a handler's body: a client knows it as the body


def _field_errors(exc: ValidationException) -> list[dict]:
    """Name the offending field: Litestar reports query/path keys, msgspec reports a `$.path` in the text
    and names a missing or unknown field in its message."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "is invalid"))
        field = item.get("key")
        if field == BODY_PARAMETER:
            field, message = "body", "is required" if message == repr(BODY_PARAMETER) else message
        path = None
        if match := _MSGSPEC_PATH.search(message):
            path = match.group(1)
            message = _MSGSPEC_PATH.sub("", message)
        if named := _NAMED_FIELD.match(message):
            field = f"{path}.{named.group(2)}" if path else named.group(2)
            message = _NAMED_MESSAGES[named.group(1)]
        elif path is not None:
            field = field if field not in (None, "body") else path or "body"
        errors.append({"field": field or item.get("source") or "body", "message": message})
    return errors


def validation_error_handler(request: Request, exc: ValidationException) -> Response:
    errors = _field_errors(exc)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(exc.detail)
    return problem(400, "invalid-request", "The request is malformed", detail, request, errors=errors or None)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    slug, title = _HTTP_TYPES.get(exc.status_code, ("http-error", "Request failed"))
    if exc.status_code >= 500:
        return internal_error_handler(request, exc)
    return problem(exc.status_code, slug, title, str(exc.detail), request)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        "Internal error",
        "Something went wrong on our side; nothing was saved. Quote the request id when reporting it.",
        request,
    )


def _is_unique_violation(exc: Exception) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return str(exc).startswith("UNIQUE constraint failed")
    return isinstance(exc, UniqueViolationError)


def integrity_error_handler(request: Request, exc: Exception) -> Response:
    """A unique constraint refused a row: two requests created the same thing at once and this one came
    second (the services check first, but only the constraint is exact under concurrency). Any other
    integrity error is ours."""
    if not _is_unique_violation(exc):
        return internal_error_handler(request, exc)
    log.info("unique constraint refused a concurrent write", extra={"error": type(exc).__name__})
    return problem(
        409,
        "conflict",
        "Conflict",
        "Another request created the same record at the same moment; nothing was saved by this one",
        request,
    )


EXCEPTION_HANDLERS = {
    sqlite3.IntegrityError: integrity_error_handler,
    UniqueViolationError: integrity_error_handler,
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "MediaType", "PROBLEM_JSON", "problem"]
