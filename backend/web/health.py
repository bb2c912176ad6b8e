"""GET /health: database reachability and, as features register them, other components' status."""

from __future__ import annotations

import time

import msgspec
from litestar import Request, get
from litestar.response import Response

from backend.db.engine import is_sqlite, ping


class ComponentStatus(msgspec.Struct):
    ok: bool
    detail: str | None = None
    info: dict | None = None


class Health(msgspec.Struct):
    status: str
    components: dict[str, ComponentStatus]


@get("/health", operation_id="health", tags=["ops"])
async def health(request: Request) -> Response[Health]:
    """Service health. 200 when the database answers; other components say what is unavailable and why."""
    components: dict[str, ComponentStatus] = {}
    started = time.perf_counter()
    try:
        await ping()
        latency = round((time.perf_counter() - started) * 1000, 2)
        backend = "sqlite" if is_sqlite() else "postgresql"
        components["database"] = ComponentStatus(True, None, {"backend": backend, "latency_ms": latency})
    except Exception as exc:  # the point of a health check is to report failures, not raise them
        components["database"] = ComponentStatus(False, f"{type(exc).__name__}: {exc}")
    for name, probe in request.app.state.health_probes.items():
        components[name] = probe()
    ok = components["database"].ok
    return Response(Health("ok" if ok else "degraded", components), status_code=200 if ok else 503)


def face_status(face) -> ComponentStatus:
    """Loaded models and checksums, or why face verification is unavailable and which setting fixes it."""
    info = face.health()
    if getattr(face, "available", False):
        return ComponentStatus(True, None, info)
    return ComponentStatus(
        False, f"face verification unavailable: {info.get('reason')}; set {info.get('setting')}", info
    )
