"""The piccolo tables, found the way the database floor finds them: every module named `tables` (a
`tables.py` file or a `tables/` package) under backend/, mobile_api/ and webrtc/, imported, and the
piccolo Table classes it defines.

For each table: its columns (database names) and those an INSERT must name. A hand-written INSERT runs
in the database, so only a default the database knows fills a column it leaves out:
- a plain value or a piccolo `Default` (TimestamptzNow, UUID4...) becomes the column's DEFAULT;
- a NULL default on a nullable column is the database's own;
- a Serial/BigSerial key is counted by the database;
- a callable (`default=uuid7`, a lambda) runs in Python, in piccolo's own inserts only; a NOT NULL
  column with a NULL default has nothing to fall back on: both must be named.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from piccolo.columns import BigSerial, Column, Serial
from piccolo.columns.defaults.base import Default
from piccolo.table import Table

from tests.unit.architecture.imports import ROOT, module_name

PACKAGES = ("backend", "mobile_api", "webrtc")


@dataclass(frozen=True)
class TableColumns:
    name: str
    defined_in: str  # module.Class
    columns: frozenset[str]
    required: frozenset[str]  # what an INSERT must name


def table_modules() -> list[str]:
    found = []
    for package in PACKAGES:
        base = ROOT / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("tables.py")) + sorted(base.rglob("tables/__init__.py")):
            if "__pycache__" not in path.parts and "migrations" not in path.parts:
                found.append(module_name(path))
    return sorted(set(found))


def needs_naming(column: Column) -> bool:
    if isinstance(column, Serial | BigSerial):
        return False
    default = getattr(column, "default", None)
    if isinstance(default, Default):
        return False
    if callable(default):
        return True
    return default is None and not column._meta.null


@cache
def piccolo_tables() -> dict[str, TableColumns]:
    tables: dict[str, TableColumns] = {}
    for name in table_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Table)
                and value is not Table
                and value.__module__ == module.__name__
            ):
                columns = value._meta.columns
                tables[value._meta.tablename] = TableColumns(
                    name=value._meta.tablename,
                    defined_in=f"{value.__module__}.{value.__name__}",
                    columns=frozenset(c._meta.db_column_name for c in columns),
                    required=frozenset(c._meta.db_column_name for c in columns if needs_naming(c)),
                )
    return tables
