"""The OpenAPI document: what Litestar derives from the handlers, completed with what it cannot see.

Litestar documents a handler's success response and a validation error in its own shape. Every error here
is an RFC 9457 problem (`backend.web.problems`), answered by guards, middleware and services the handler's
signature does not show. So the document is completed once, after the routes are registered:

- each operation lists the problem responses it can give, as `application/problem+json` with the
  `Problem` schema: 400/422 where it takes input, 401/403 where it needs a token, 404 where a path names a
  record, 409 and 413/415 where it takes a body, and the lockout, rate-limit and dependency answers
  (423, 429, 503) of the operations in `_RAISES`;
- the headers every client meets: `X-Request-ID` on every response, `Idempotency-Key` on the POSTs that
  honour it with `Idempotent-Replayed` on their answers, `Retry-After` on 409/423/429/503.

The docs pages load their scripts from the product (`/schema/assets`, swagger-ui-dist from npm at setup).
"""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, Response, get
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    SecurityScheme,
)
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import FromPath

from backend.web.problems import PROBLEM_JSON

ASSETS_PATH = "/schema/assets"
# Installed by scripts/setup.sh (`npm ci`): package.json pins the exact version.
SWAGGER_DIST = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
}
_FAVICON = '<link rel="icon" href="data:,">'  # none: the default one is fetched from a CDN

# Answers a service gives that the signature cannot show: wrong credentials on the routes that take no
# token (401), lockouts (423), rate limits (429) and an unavailable SMS provider or face engine (503).
_RAISES: dict[str, set[int]] = {
    "staffLogin": {401, 423},
    "staffRefresh": {401},
    "staffChangePassword": {423},
    "requestLoginCode": {423, 429, 503},
    "phoneLogin": {401, 423, 503},
    "phoneRefresh": {401},
    "submitCheckin": {423, 429, 503},
    "enrolFace": {503},
    "health": {503},
}

_DESCRIPTIONS = {
    400: "The request is malformed: a parameter or the body does not match the schema",
    401: "No valid access token, or the session has ended",
    403: "The caller's role or channel may not do this",
    404: "No such record, or not one the caller may see",
    409: "Conflicts with the current state, or a request with this Idempotency-Key is still in flight",
    413: "The body is larger than this operation takes",
    415: "The body is not JSON",
    422: "The request is well-formed but a value is not acceptable",
    423: "Locked after too many failed attempts; Retry-After says for how long",
    429: "Too many requests; Retry-After says when to try again",
    503: "A dependency (SMS provider, face engine, database) is unavailable",
}
_RETRY_AFTER = {409, 423, 429, 503}
# The phone's supervision routes act on the caller's active measure: 404 when there is none.
_ON_OWN_MEASURE = "phone: supervision"
_MUTATING = {"post", "put", "patch", "delete"}

_PROBLEM = OpenAPISchema(
    type="object",
    description="RFC 9457 problem details; `type` is a stable slug clients switch on",
    required=["type", "title", "status", "detail"],
    properties={
        "type": OpenAPISchema(type="string", description="/problems/<slug>, stable once published"),
        "title": OpenAPISchema(type="string"),
        "status": OpenAPISchema(type="integer"),
        "detail": OpenAPISchema(type="string", description="What is wrong, naming the field"),
        "instance": OpenAPISchema(one_of=[OpenAPISchema(type="string"), OpenAPISchema(type="null")]),
        "request_id": OpenAPISchema(
            one_of=[OpenAPISchema(type="string"), OpenAPISchema(type="null")],
            description="Quote it when reporting a problem; also the X-Request-ID header",
        ),
        "errors": OpenAPISchema(type="array", items=Reference("#/components/schemas/FieldProblem")),
        "field": OpenAPISchema(type="string", description="The header or field the problem is about"),
        "retry_after": OpenAPISchema(type="integer", description="Seconds; also the Retry-After header"),
    },
)
_FIELD_PROBLEM = OpenAPISchema(
    type="object",
    required=["field", "message"],
    properties={"field": OpenAPISchema(type="string"), "message": OpenAPISchema(type="string")},
)


def _header(description: str, schema_type: str = "string") -> OpenAPIHeader:
    return OpenAPIHeader(description=description, schema=OpenAPISchema(type=schema_type))


_HEADERS = {
    "X-Request-ID": Reference("#/components/headers/X-Request-ID"),
    "Retry-After": Reference("#/components/headers/Retry-After"),
    "Idempotent-Replayed": Reference("#/components/headers/Idempotent-Replayed"),
}
_COMPONENT_HEADERS = {
    "X-Request-ID": _header("This request's id as the server logged it (the client's, or one made up)"),
    "Retry-After": _header("Seconds to wait before trying again", "integer"),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with its key"
    ),
}
_IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in="header",
    required=False,
    description=(
        "Any unique string (1-200 characters, e.g. a UUID) per intended change: a retry with the same key "
        "and body gets the first answer and never repeats the change; the same key with another body is 422"
    ),
    schema=OpenAPISchema(type="string", min_length=1, max_length=200),
)
_REQUEST_ID = Parameter(
    name="X-Request-ID",
    param_in="header",
    required=False,
    description=(
        "A client-chosen id to find this request in the server's logs, echoed back: 8-64 characters of "
        "A-Z a-z 0-9 . _ -; any other value is replaced by one the server makes up (never refused)"
    ),
    schema=OpenAPISchema(type="string"),
)


def openapi_config() -> OpenAPIConfig:
    swagger = SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=_FAVICON,
    )
    return OpenAPIConfig(
        title="remotecase",
        version="1.0.0",
        description=(
            "Remote case handling and non-custodial supervision. `/api/v1` serves the officers' console, "
            "`/m/v1` the phone app. Errors are RFC 9457 problems (`application/problem+json`). Lists are "
            "pages: `{items, next_cursor}`; pass `cursor` back for the next page."
        ),
        path="/schema",
        use_handler_docstrings=True,
        render_plugins=[swagger, JsonRenderPlugin(path="/openapi.json")],
        components=Components(security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer")}),
    )


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, cache=3600)
async def schema_asset(name: FromPath[str]) -> Response[bytes]:
    """The docs page's scripts and styles, from the npm package installed at setup."""
    media_type = _ASSETS.get(name)
    path = SWAGGER_DIST / name
    if media_type is None or not path.is_file():
        raise NotFoundException(f"No docs asset {name!r} (run scripts/setup.sh to install them)")
    return Response(path.read_bytes(), media_type=media_type)


def complete_document(app: Litestar) -> None:
    """Adds the problem responses and headers to the app's document (built here, once, and cached)."""
    # POSTs that opt out of Idempotency-Key (opt={"idempotency": False}): logins and token exchanges.
    opted_out = {
        handler.operation_id
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler.operation_id, str) and handler.opt.get("idempotency") is False
    }
    document = app.plugins.get(OpenAPIPlugin).provide_openapi()
    _add_components(document)
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation: Operation | None = getattr(item, method)
            if operation is not None:
                idempotent = method == "post" and operation.operation_id not in opted_out
                _complete_operation(method, operation, idempotent)


def _add_components(document: OpenAPI) -> None:
    components = document.components
    components.schemas = {**(components.schemas or {}), "Problem": _PROBLEM, "FieldProblem": _FIELD_PROBLEM}
    components.headers = {**(components.headers or {}), **_COMPONENT_HEADERS}


def _complete_operation(method: str, operation: Operation, idempotent: bool) -> None:
    parameters = list(operation.parameters or [])  # before ours: X-Request-ID is never refused
    takes_body = isinstance(operation.request_body, RequestBody)
    path_params = any(getattr(p, "param_in", None) == "path" for p in parameters)
    statuses = set(_RAISES.get(operation.operation_id or "", ()))
    if parameters or takes_body:
        statuses |= {400, 422}
    if operation.security:
        statuses |= {401, 403}
    if path_params or (operation.security and _ON_OWN_MEASURE in (operation.tags or ())):
        statuses.add(404)
    if takes_body:
        statuses |= {413, 415}
    if method in _MUTATING:
        statuses.add(409)
    if idempotent:
        statuses |= {400, 409, 422}
        parameters.append(_IDEMPOTENCY_KEY)
    parameters.append(_REQUEST_ID)
    operation.parameters = parameters

    # Litestar's own error entries (its validation shape) make way for the problems actually answered.
    responses = {code: r for code, r in (operation.responses or {}).items() if code.startswith("2")}
    for response in responses.values():
        if isinstance(response, OpenAPIResponse):
            headers = {**(response.headers or {}), "X-Request-ID": _HEADERS["X-Request-ID"]}
            if idempotent:
                headers["Idempotent-Replayed"] = _HEADERS["Idempotent-Replayed"]
            response.headers = headers
    for status in sorted(statuses):
        headers = {"X-Request-ID": _HEADERS["X-Request-ID"]}
        if status in _RETRY_AFTER:
            headers["Retry-After"] = _HEADERS["Retry-After"]
        responses[str(status)] = OpenAPIResponse(
            description=_DESCRIPTIONS[status],
            headers=headers,
            content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))},
        )
    operation.responses = responses
