"""The tables the SQL check knows are the tables the app migrates: a `tables` module in a package that
backend/domains.py does not list would be checked here but never created (no database is opened)."""

from __future__ import annotations

from backend import domains
from tests.unit.architecture.table_columns import piccolo_tables


def test_every_tables_module_belongs_to_a_listed_domain() -> None:
    walked = {t.name: t.defined_in for t in piccolo_tables().values()}
    migrated = {t._meta.tablename for t in domains.tables()}
    unlisted = sorted(f"{name} ({where})" for name, where in walked.items() if name not in migrated)
    assert not unlisted, "tables outside backend/domains.DOMAINS:\n" + "\n".join(unlisted)
    assert migrated <= set(walked), sorted(migrated - set(walked))
