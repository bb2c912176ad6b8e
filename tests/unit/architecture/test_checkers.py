"""The guard rails themselves: a deliberately wrong statement or import is reported, a right one is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from piccolo.columns import UUID, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from tests.unit.architecture.imports import violations
from tests.unit.architecture.sql_check import check_statement, check_text
from tests.unit.architecture.sql_text import statements_in
from tests.unit.architecture.table_columns import TableColumns, needs_naming


def _uuid7() -> str:
    return "0"


class Visit(Table, tablename="visits"):
    id = UUID(primary_key=True, default=_uuid7)  # Python-side only: an INSERT must name it
    person = Varchar(length=20)  # default '' in the database
    room = Integer(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow())  # DEFAULT CURRENT_TIMESTAMP


class Counter(Table, tablename="counters"):
    id = Serial(primary_key=True)
    visits = Integer(default=0)


def _columns(table: type[Table]) -> TableColumns:
    cols = table._meta.columns
    return TableColumns(
        table._meta.tablename,
        table.__name__,
        frozenset(c._meta.db_column_name for c in cols),
        frozenset(c._meta.db_column_name for c in cols if needs_naming(c)),
    )


TABLES = {t._meta.tablename: _columns(t) for t in (Visit, Counter)}


def test_only_python_side_defaults_must_be_named() -> None:
    assert TABLES["visits"].required == {"id"}
    assert TABLES["counters"].required == set()


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO visits (id, person) VALUES ($1, $2) RETURNING id, at",
        "INSERT INTO visits (id, person, room) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET room = excluded.room WHERE visits.room IS NULL",
        "UPDATE counters SET visits = visits + 1 WHERE id = $1 RETURNING visits",
        "SELECT v.person, c.visits FROM visits v JOIN counters c ON c.id = v.room WHERE v.at > $1",
        "WITH recent AS (SELECT person FROM visits WHERE at > $1) SELECT person, count(*) AS n FROM recent "
        "GROUP BY person ORDER BY n",
        "SELECT person FROM visits WHERE NOT EXISTS (SELECT 1 FROM counters WHERE counters.id = room)",
        "DELETE FROM visits WHERE id IN (SELECT v.id FROM visits v WHERE v.room = $1)",
        "INSERT OR IGNORE INTO counters (visits) VALUES (?)",
    ],
)
def test_a_right_statement_passes(sql: str) -> None:
    assert check_text(sql, TABLES) == []


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("INSERT INTO visits (id, persn) VALUES ($1, $2)", "unknown column visits.persn"),
        ("INSERT INTO visits (person, room) VALUES ($1, $2)", "INSERT INTO visits leaves out id"),
        ("INSERT INTO visits VALUES ($1, $2, $3, $4)", "INSERT INTO visits names no columns"),
        ("INSERT INTO vistis (id) VALUES ($1)", "unknown table vistis"),
        ("UPDATE counters SET visit = 1 WHERE id = $1", "unknown column counters.visit"),
        ("SELECT v.persn FROM visits v", "unknown column visits.persn (as v.persn)"),
        ("SELECT persn FROM visits WHERE id = $1", "unknown column persn (not in visits)"),
        ("DELETE FROM counters WHERE visit = 0", "unknown column visit (not in counters)"),
        (
            "INSERT INTO visits (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET rom = excluded.room",
            "unknown column visits.rom",
        ),
        ("SELECT person FROM visits WHERE room IN (SELECT c.visit FROM counters c)", "counters.visit"),
        ("SELECT w.person FROM visits v", "w.person names no table or alias"),
    ],
)
def test_a_wrong_statement_is_reported(sql: str, problem: str) -> None:
    problems = check_text(sql, TABLES)
    assert any(problem in p for p in problems), problems


def test_statements_are_found_in_every_form(tmp_path: Path) -> None:
    source = tmp_path / "store.py"
    source.write_text(
        '"""SELECT nothing: a docstring is prose."""\n'
        '_COLUMNS = "id, persn"\n'
        'INSERT = f"INSERT INTO visits ({_COLUMNS}) VALUES ($1, $2)"\n'
        "def claim(skip):\n"
        '    return ("UPDATE counters SET visits = 1 "\n'
        '            f"WHERE id IN (SELECT id FROM counters LIMIT 1{skip})")\n'
        "ROLES = \"SELECT person FROM visits WHERE room IN (\" + ', '.join(['1']) + ')'\n"
        'LABEL = "Select a visit"\n'
    )
    found = statements_in(source)
    assert [s.line for s in found] == [3, 5, 7]
    problems = [p for s in found for p in check_statement(s, TABLES, root=tmp_path)]
    assert problems == ["store.py:3: unknown column visits.persn"]


def test_a_forbidden_import_is_reported_with_its_line(tmp_path: Path) -> None:
    package = tmp_path / "geofence"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fences.py").write_text(
        "import math\n\ndef load():\n    from litestar import get\n    from . import shapes\n"
    )
    found = violations([package / "fences.py"], ("litestar", "geofence.shapes"), root=tmp_path)
    assert found == ["geofence/fences.py:4 imports litestar", "geofence/fences.py:5 imports geofence.shapes"]
