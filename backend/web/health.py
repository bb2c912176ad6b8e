"""GET /health: database reachability and, as features register them, other components' status.

Anyone may ask, so an anonymous caller learns only whether each component works and, if not, why in
words without file paths. Details (database kind and latency, model files, checksums, where they came
from) are for a signed-in staff member.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import msgspec
from litestar import Request, get, head
from litestar.di import NamedDependency, Provide
from litestar.response import Response

from backend.accounts.roles import STAFF_ROLES
from backend.accounts.sessions import SessionService
from backend.db.engine import is_sqlite, ping
from backend.web.providers import provide

_PATH = re.compile(r"(?<![\w.])(?:~|[A-Za-z]:)?[/\\][^\s,;'\"]*")


# The licence of the face models this product ships with or falls back to (insightface's pretrained packs):
# shown to every caller, because a deployment must not run them commercially without knowing it.
FACE_MODEL_LICENCE = (
    "The insightface face models (SCRFD, ArcFace) are licensed for non-commercial research only; "
    "a production deployment must license its own models"
)


# A component's details: versions, latency, and the model files (name, role, checksum) of the face engine.
# (No `int` beside `float`: a whole number would match both branches of the documented oneOf.)
InfoValue = str | float | bool | list[dict[str, str | bool | None]] | None


class ComponentStatus(msgspec.Struct):
    ok: bool
    detail: str | None = None
    info: dict[str, InfoValue] | None = None
    licence: str | None = None


class Health(msgspec.Struct):
    status: str
    components: dict[str, ComponentStatus]


# Each component's probe by name; features add theirs here (registered in PROVIDER_MODULES).
HealthProbes = dict[str, Callable[[], ComponentStatus]]


def providers(services) -> dict[str, Provide]:
    """The health probes beside the database: the face engine's models."""
    probes: HealthProbes = {"face": lambda: face_status(services.biometrics.face)}
    return {"health_probes": provide(probes)}


@get("/health", operation_id="health", tags=["ops"])
async def health(
    request: Request,
    sessions: NamedDependency[SessionService],
    health_probes: NamedDependency[HealthProbes],
) -> Response[Health]:
    """Service health. 200 when the database answers; other components say what is unavailable and why.
    Component `info` (versions, latency, model files) is given to staff callers only (send their token)."""
    components: dict[str, ComponentStatus] = {}
    started = time.perf_counter()
    try:
        await ping()
        latency = round((time.perf_counter() - started) * 1000, 2)
        backend = "sqlite" if is_sqlite() else "postgresql"
        components["database"] = ComponentStatus(True, None, {"backend": backend, "latency_ms": latency})
    except Exception as exc:  # the point of a health check is to report failures, not raise them
        components["database"] = ComponentStatus(False, f"{type(exc).__name__}: {exc}")
    for name, probe in health_probes.items():
        components[name] = probe()
    ok = components["database"].ok
    if not (ok and await _is_staff(request, sessions)):
        components = {name: public(c) for name, c in components.items()}
        if not ok:  # the driver's words can name hosts and ports
            components["database"].detail = "the database does not answer"
    return Response(Health("ok" if ok else "degraded", components), status_code=200 if ok else 503)


@head("/health", operation_id="healthHead", tags=["ops"])
async def health_head() -> Response[None]:
    """The same verdict as GET /health without a body, for load balancers and uptime probes: 200 when
    the database answers, 503 when it does not."""
    try:
        await ping()
    except Exception:  # reported, not raised: the status is the answer
        return Response(None, status_code=503)
    return Response(None, status_code=200)


def public(component: ComponentStatus) -> ComponentStatus:
    """What an anonymous caller may see: the flag, and the reason without paths."""
    detail = _PATH.sub("<path>", component.detail) if component.detail else None
    return ComponentStatus(component.ok, detail, licence=component.licence)


async def _is_staff(request: Request, sessions: SessionService) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return False
    try:
        principal = await sessions.authenticate(header[7:].strip())
    except Exception:  # a bad or stale token gets the anonymous answer, never an error from /health
        return False
    return principal.role in STAFF_ROLES


def face_status(face) -> ComponentStatus:
    """Loaded models and checksums, or why face verification is unavailable and which setting fixes it."""
    info = face.health()
    if getattr(face, "available", False):
        return ComponentStatus(True, None, info, FACE_MODEL_LICENCE)
    return ComponentStatus(
        False,
        f"face verification unavailable: {info.get('reason')}; set {info.get('setting')}",
        info,
        FACE_MODEL_LICENCE,
    )
