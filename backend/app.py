"""The app factory: short on purpose. Routers come from the registry; services reach handlers as
dependency providers (backend.web.providers)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")

from litestar import Litestar  # noqa: E402
from litestar.datastructures import State  # noqa: E402

from backend.core.logging import configure_logging  # noqa: E402
from backend.db.engine import close_database, open_database  # noqa: E402
from backend.services import build_services  # noqa: E402
from backend.settings import Settings, get_settings  # noqa: E402
from backend.supervision.handling.alerts import AlertFeed  # noqa: E402
from backend.web.alert_channels import live_alerts_plugin  # noqa: E402
from backend.web.deps import principal_guard  # noqa: E402
from backend.web.health import health, health_head  # noqa: E402
from backend.web.idempotency import idempotency_middleware  # noqa: E402
from backend.web.openapi import complete_document, openapi_config, schema_asset  # noqa: E402
from backend.web.problems import EXCEPTION_HANDLERS  # noqa: E402
from backend.web.providers import build_providers  # noqa: E402
from backend.web.registry import load_routers  # noqa: E402
from backend.web.request_id import request_id_middleware  # noqa: E402
from backend.web.strict import StrictRequest, refuse_hostile_query  # noqa: E402


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await open_database()
        # Everything built so far lives as long as the process: keep it out of the garbage collector's
        # full passes, which otherwise rescan it all and stall requests under load.
        gc.freeze()
        feed = asyncio.create_task(AlertFeed(settings).run())  # other processes' alerts, without Redis
        try:
            yield
        finally:
            feed.cancel()
            await asyncio.gather(feed, return_exceptions=True)
            await services.close()
            await close_database()

    app = Litestar(
        route_handlers=[health, health_head, schema_asset, *load_routers()],
        lifespan=[lifespan],
        dependencies=build_providers(services),  # each service by name (backend.web.providers)
        plugins=[live_alerts_plugin(settings)],  # live alerts: channels, over Redis when REDIS_URL is set
        guards=[principal_guard],  # authenticates before any body is read (backend.web.deps)
        middleware=[idempotency_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=StrictRequest,  # bodies decoded strictly, checked once (backend.web.strict)
        before_request=refuse_hostile_query,
        # For what runs outside dependency injection (guards, middleware: providers.services_of) and tests.
        state=State({"services": services}),
        openapi_config=openapi_config(),
        logging_config=None,
        debug=False,
    )
    complete_document(app)  # the problems and headers the handlers' signatures do not show
    # Outside Litestar's routing, so unmatched paths and framework errors carry a request id too.
    app.asgi_handler = request_id_middleware(app.asgi_handler)
    return app
