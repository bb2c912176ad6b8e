"""Every hand-written SQL statement matches the piccolo tables, and lives in a store module.

Statements are found in the source (sql_text), checked with a real parser against the tables piccolo
declares (sql_check, table_columns): a renamed column, a typo in an alias or a new column whose default
only Python knows fails here, not in production. No database is opened; the table modules are imported.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tests.unit.architecture.imports import python_files, relative
from tests.unit.architecture.sql_check import check_statement
from tests.unit.architecture.sql_text import Statement, statements_in
from tests.unit.architecture.table_columns import piccolo_tables

FOLDERS = ("backend", "mobile_api")


@cache
def all_statements() -> tuple[Statement, ...]:
    found: list[Statement] = []
    for path in python_files(*FOLDERS):
        if "migrations" not in path.parts:
            found.extend(statements_in(path))
    return tuple(found)


def test_the_statements_are_found() -> None:
    """The finder sees the hand-written SQL (the check-in, the upload and the audit chain write some)."""
    statements = all_statements()
    assert len(statements) >= 40
    assert any(s.text.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES") for s in statements)


def test_every_statement_matches_the_tables() -> None:
    tables = piccolo_tables()
    assert len(tables) >= 30
    problems = [problem for statement in all_statements() for problem in check_statement(statement, tables)]
    assert not problems, "\n".join(problems)


def is_store_module(path: Path) -> bool:
    """Where SQL text may be written: a (sub-)domain's `store.py`, or the database floor (backend/db/),
    which sends statements and owns the adapters."""
    rel = Path(relative(path)).parts
    return path.name == "store.py" or rel[:2] == ("backend", "db")


def test_sql_is_written_only_in_store_modules() -> None:
    outside: dict[str, list[int]] = {}
    for statement in all_statements():
        if not is_store_module(statement.path):
            outside.setdefault(relative(statement.path), []).append(statement.line)
    report = [f"{path}: SQL at lines {', '.join(map(str, sorted(n)))}" for path, n in sorted(outside.items())]
    assert not outside, "SQL text outside store.py modules:\n" + "\n".join(report)
