"""The domains the product is made of, and what the database floor needs from them.

The floor (`backend/db/`) names no domain. This list does: each domain package is walked for modules named
`tables` (a sub-domain keeps its own `tables.py`), and each may offer `<domain>.seed.seed()`, the rows the
app relies on, run by `remotecase migrate` after the migrations (idempotent: it runs on every start-up
migrate). A new domain is one line here.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Awaitable, Callable

from piccolo.conf.apps import table_finder
from piccolo.table import Table

DOMAINS = (
    "backend.accounts",
    "backend.audit",
    "backend.ops",
    "backend.notify",
    "backend.biometrics",
    "backend.supervision",
)


def table_modules(domains: tuple[str, ...] | None = None) -> list[str]:
    """Every module called `tables` inside a domain package, at any depth."""
    found = []
    for domain in DOMAINS if domains is None else domains:
        package = importlib.import_module(domain)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{domain}.", onerror=_raise):
            if module.name.rsplit(".", 1)[-1] == "tables":
                found.append(module.name)
    return sorted(found)


def _raise(name: str) -> None:
    # walk_packages skips a sub-package that fails to import unless told otherwise: its tables would
    # vanish from the migrations without a word. Called inside walk_packages' handler: re-raise its error.
    raise


def tables(domains: tuple[str, ...] | None = None) -> list[type[Table]]:
    """The tables those modules define (a table re-exported by another `tables` module counts once)."""
    return table_finder(table_modules(domains), exclude_imported=True)


def seeds() -> list[Callable[[], Awaitable[None]]]:
    """Each domain's `seed()`, in the order of DOMAINS."""
    return [
        importlib.import_module(f"{domain}.seed").seed
        for domain in DOMAINS
        if importlib.util.find_spec(f"{domain}.seed") is not None
    ]


async def migrate() -> None:
    """`remotecase migrate`: the migrations, then every domain's seed."""
    from backend.db.migrate import migrate as run_migrations

    await run_migrations(seeds=seeds())
