"""Structured JSON logs, one object per line, each carrying the request id when there is one.

Nothing secret goes into a line: every line passes `redact` on its way out, whoever logged it (our code,
uvicorn, a library). Fields named like secrets lose their values; in all text, query strings of paths
(uvicorn logs a websocket's path with its query), `key=value` pairs of secret-bearing keys, bearer tokens,
our signed access tokens and "code is 123456" lose theirs. This is a safety net, not licence: code still
logs no secret on purpose.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from backend.core.context import request_id_var

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}

REDACTED = "[redacted]"
# Field names whose values are never written (matched on the lower-cased name, as a word part).
_SECRET_FIELD = re.compile(
    r"(^|_)(token|access_token|refresh_token|ticket|code|totp|password|passwd|secret|key|signature|"
    r"body|authorization|cookie|session_token)($|_)"
)
_SCRUBS = [
    # A path's query string: /api/v1/alerts/live?ticket=... -> /api/v1/alerts/live?[redacted]
    (re.compile(r"(/[^\s?\"'#<>]*)\?[^\s\"'#<>]+"), r"\1?" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # Our access tokens: base64url JSON (starts with eyJ) dot signature.
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"), REDACTED),
    # key=value, key: value and "key": "value" (URLs, headers, JSON in frames) for secret-bearing keys.
    (
        re.compile(
            r"(?i)\b((?:access_|refresh_)?token|ticket|code|otp|totp|password|secret|key|signature|"
            r"authorization|cookie)([\"']?\s*[=:]\s*[\"']?)[^\s&\"',;)}]+"
        ),
        r"\1\2" + REDACTED,
    ),
    # Login codes in prose: "code is 123456", "code 123456".
    (re.compile(r"(?i)\b(code(?:\s+is)?\s*)\d{4,8}\b"), r"\1" + REDACTED),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: object, key: str = "") -> object:
    """The value with secret fields blanked and secrets in text replaced, recursively. Numbers under a
    secret-sounding name stay (an error or status code); our codes and tokens are always text."""
    if key and _SECRET_FIELD.search(key.lower()) and not isinstance(value, int | float | None):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": request_id_var.get(),
        }
        entry.update({k: redact(v, k) for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "litestar"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
