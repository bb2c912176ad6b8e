"""Services reach handlers by name: one provider per built service, and a name provided twice stops the
app at start-up instead of one service silently shadowing another."""

from __future__ import annotations

import sys
from dataclasses import fields
from types import ModuleType

import pytest

from backend.services import Services
from backend.web import providers


def _services() -> Services:
    built = {f.name: object() for f in fields(Services) if f.name != "closers"}
    return Services(**built)


async def test_every_service_is_provided_under_its_own_name_as_the_object_built_once():
    services = _services()
    provided = providers.build_providers(services)
    for f in fields(Services):
        if f.name == "closers":
            assert "closers" not in provided
            continue
        assert await provided[f.name]() is getattr(services, f.name)
    assert "health_probes" in provided  # a domain's own contribution (backend.web.health)


def test_a_name_provided_twice_is_refused_naming_it(monkeypatch):
    module = ModuleType("tests_fake_domain")
    module.providers = lambda services: {"auth": providers.provide(None)}
    monkeypatch.setitem(sys.modules, "tests_fake_domain", module)
    monkeypatch.setattr(
        providers, "PROVIDER_MODULES", [*providers.PROVIDER_MODULES, "tests_fake_domain:providers"]
    )
    with pytest.raises(RuntimeError, match=r"tests_fake_domain:providers provides \['auth'\]"):
        providers.build_providers(_services())
