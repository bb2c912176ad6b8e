"""How a handler reaches a service: by name, through Litestar's dependency injection.

The app factory builds the services once (backend.services) and registers one provider per service
here, at the app layer, so a handler names what it calls in its signature
(`auth: NamedDependency[AuthService]`) and a reader can follow it to the class. A domain with services
of its own contributes providers through a function `providers(services) -> dict[str, Provide]` named
by import string in PROVIDER_MODULES, the same way routers come from backend.web.registry, so backend/
never imports the API packages.

Guards and middleware run outside dependency injection; they reach the same built services through
`services_of(connection)`, never through ad-hoc app.state keys.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from litestar.connection import ASGIConnection
from litestar.di import Provide

from backend.services import Services

# Domains' own providers: "module:function", each function taking the built Services.
PROVIDER_MODULES: list[str] = [
    "backend.web.health:providers",
]


def provide(value: Any) -> Provide:
    """A provider for an object built once: no thread hop, computed once and cached."""
    return Provide(_constant(value), use_cache=True, sync_to_thread=False)


def build_providers(services: Services) -> dict[str, Provide]:
    """One provider per field of Services (settings, sessions, auth, directory, sms, receipts, checkins,
    storage, biometrics, audit), then the domains' contributions; a name given twice is a wiring mistake."""
    providers = {f.name: provide(getattr(services, f.name)) for f in fields(services) if f.name != "closers"}
    for spec in PROVIDER_MODULES:
        module, _, attr = spec.partition(":")
        contributed = getattr(importlib.import_module(module), attr)(services)
        if clash := providers.keys() & contributed.keys():
            raise RuntimeError(f"{spec} provides {sorted(clash)}, already provided")
        providers.update(contributed)
    return providers


def services_of(connection: ASGIConnection) -> Services:
    """The built services, for code that runs outside dependency injection (guards, middleware)."""
    return connection.app.state.services


def _constant(value: Any) -> Callable[[], Any]:
    def provider() -> Any:
        return value

    return provider
