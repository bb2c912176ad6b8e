"""Which way the imports go (docs/architecture.md, ARCHITECTURE.md "Which way the imports go"), read from
the source with `ast`: nothing is imported, no database is opened. A failure lists `path:line imports X`.
"""

from __future__ import annotations

from pathlib import Path

from tests.unit.architecture.imports import ROOT, matches, python_files, violations

WEB_FRAMEWORKS = ("litestar", "starlette", "uvicorn", "aiohttp", "fastapi", "flask", "django")
DATABASE = ("piccolo", "asyncpg", "sqlite3", "aiosqlite", "psycopg", "psycopg2", "backend.db")


def tables_or_store(module: str) -> bool:
    """A domain's piccolo tables or its SQL, at any depth (backend.supervision.fences.store)."""
    parts = module.split(".")
    return "tables" in parts or "store" in parts


def _report(found: list[str]) -> str:
    return "\n".join(found)


def test_the_pure_libraries_import_no_web_framework_and_no_database() -> None:
    """geofence/ and templates/ are leaves: no web framework (Litestar, Starlette, uvicorn, aiohttp...),
    no ORM or driver (piccolo, asyncpg, sqlite3...), nothing of the database floor (backend.db), and
    nothing of the apps that use them (backend, mobile_api, webrtc)."""
    files = python_files("geofence", "templates")
    assert files, "geofence/ has Python files"
    found = violations(files, WEB_FRAMEWORKS + DATABASE + ("backend", "mobile_api", "webrtc"))
    assert not found, _report(found)


def is_service_module(path: Path) -> bool:
    """The rule's reach. A service module is every module under backend/ except:
    - controllers: a module named `controllers.py` or `*_controllers.py`, or inside a `controllers/`
      package (they are Litestar handlers by design);
    - schemas: `schemas.py` or `*_schemas.py` (request and response bodies; they may name Litestar's
      upload types);
    - the web layer: everything under backend/web/ (app wiring, providers, problems, OpenAPI, middleware);
    - backend/app.py (the app factory) and backend/cli.py (the command line that starts the server);
    - backend/migrations/ (piccolo's migration files).
    Everything else (services, stores, tables, jobs, plugins and helpers of a domain) is a service module:
    a plugin or socket loop that needs Litestar belongs to the web layer or a controller.
    """
    rel = path.resolve().relative_to(ROOT).parts
    if rel[0] != "backend" or (len(rel) > 1 and rel[1] in ("web", "migrations")):
        return False
    if rel in (("backend", "app.py"), ("backend", "cli.py")):
        return False
    stem = path.stem
    if stem == "controllers" or stem.endswith("_controllers") or "controllers" in rel[:-1]:
        return False
    return not (stem == "schemas" or stem.endswith("_schemas"))


def test_no_service_imports_litestar() -> None:
    files = [p for p in python_files("backend") if is_service_module(p)]
    assert len(files) > 20
    found = violations(files, ("litestar",))
    assert not found, _report(found)


FLOOR_MAY_IMPORT = ("backend.db", "backend.core", "backend.settings")


def test_the_database_floor_imports_no_domain() -> None:
    """backend/db/ and backend/core/ may import each other and backend.settings, nothing else of the
    project: no domain (accounts, audit, supervision, notify, ops, biometrics, i18n, face, and every one
    added later), no web layer, no service registry, no phone or video API. Tables are found, not listed."""
    files = python_files("backend/db", "backend/core")
    assert files

    def forbidden(module: str) -> bool:
        ours = any(matches(module, top) for top in ("backend", "mobile_api", "webrtc"))
        return ours and module != "backend" and not any(matches(module, p) for p in FLOOR_MAY_IMPORT)

    found = violations(files, forbid=forbidden)
    assert not found, _report(found)


def test_the_phone_and_video_apis_only_call_services() -> None:
    """mobile_api/ and webrtc/ reach the data through backend's services: no ORM or driver, nothing of
    the database floor, no domain's `tables` (piccolo tables) or `store` (its SQL) modules."""
    files = python_files("mobile_api", "webrtc")
    assert files

    found = violations(files, DATABASE, forbid=tables_or_store)
    assert not found, _report(found)


def test_controllers_import_no_sql() -> None:
    """Controllers (controllers.py, *_controllers.py, anything in a controllers/ package) parse, call a
    service and shape the answer: no ORM or driver, no database floor, no `tables` or `store` module."""
    files = [
        p
        for p in python_files("backend", "mobile_api", "webrtc")
        if p.stem == "controllers" or p.stem.endswith("_controllers") or "controllers" in p.parts[:-1]
    ]
    assert files

    found = violations(files, DATABASE, forbid=tables_or_store)
    assert not found, _report(found)
