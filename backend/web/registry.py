"""Where the app factory finds routers. Import strings keep backend/ from importing the API packages."""

from __future__ import annotations

import importlib

ROUTER_MODULES = [
    "backend.web.console_routes:ROUTERS",
    "mobile_api.routes:ROUTERS",
]


def load_routers() -> list:
    routers = []
    for spec in ROUTER_MODULES:
        module, _, attr = spec.partition(":")
        routers.extend(getattr(importlib.import_module(module), attr))
    return routers
