"""Tables are found in the domains (backend.domains), wherever a domain keeps its `tables.py`."""

from __future__ import annotations

import pkgutil
import sys

import pytest

import backend
from backend import domains


def test_every_tables_module_under_backend_belongs_to_a_named_domain():
    """A `tables.py` in a package missing from DOMAINS would be left out of the migrations."""
    everywhere = [
        m.name
        for m in pkgutil.walk_packages(backend.__path__, prefix="backend.")
        if m.name.endswith(".tables")
    ]
    assert everywhere, "no tables module found under backend/"
    assert sorted(everywhere) == domains.table_modules()


def test_each_table_is_found_once():
    names = [t._meta.tablename for t in domains.tables()]
    assert len(names) == len(set(names))
    assert {"users", "audit_head", "measures", "live_tickets", "score_rules"} <= set(names)


def test_a_sub_domain_tables_module_is_found_and_a_re_export_counts_once(tmp_path, monkeypatch):
    root = tmp_path / "pretend_domain"
    (root / "checkins").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "checkins" / "__init__.py").write_text("")
    (root / "checkins" / "tables.py").write_text(
        "from piccolo.columns import Varchar\nfrom piccolo.table import Table\n\n"
        "class PretendCheckin(Table, tablename='pretend_checkins'):\n    note = Varchar()\n"
    )
    (root / "tables.py").write_text("from pretend_domain.checkins.tables import PretendCheckin  # noqa\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert domains.table_modules(("pretend_domain",)) == [
        "pretend_domain.checkins.tables",
        "pretend_domain.tables",
    ]
    assert [t.__name__ for t in domains.tables(("pretend_domain",))] == ["PretendCheckin"]
    for name in [n for n in sys.modules if n.startswith("pretend_domain")]:
        sys.modules.pop(name)


def test_a_sub_package_that_fails_to_import_is_an_error_not_a_missing_table(tmp_path, monkeypatch):
    root = tmp_path / "broken_domain"
    (root / "fences").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "fences" / "__init__.py").write_text("import no_such_module_anywhere\n")
    (root / "fences" / "tables.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ImportError):
        domains.table_modules(("broken_domain",))
    for name in [n for n in sys.modules if n.startswith("broken_domain")]:
        sys.modules.pop(name)


def test_the_seeds_are_the_domains_own():
    assert [seed.__module__ for seed in domains.seeds()] == ["backend.audit.seed", "backend.supervision.seed"]
