"""Hand-written SQL checked against the piccolo tables, parsed with sqlglot (PostgreSQL dialect, `$1`
placeholders; SQLite's where PostgreSQL's parser refuses, e.g. INSERT OR IGNORE).

What is checked:
- every table a statement names exists (CTE names, table functions, catalogs and computed names aside);
- INSERT: a column list is given and fixed in the source, every column in it exists, and it names every
  column the database cannot fill in itself (table_columns.needs_naming);
- UPDATE ... SET and ON CONFLICT ... DO UPDATE SET: every column set exists in the target;
- column references: `alias.column` where the alias is a known table of the statement (or an enclosing
  one) and a plain `column` where every source in reach is a known table: the column exists there; an
  alias must name a table or subquery of the statement. References through a subquery, a CTE or a
  table function are not followed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from tests.unit.architecture.imports import ROOT, relative
from tests.unit.architecture.sql_text import PLACEHOLDER, Statement
from tests.unit.architecture.table_columns import TableColumns

CATALOG_PREFIXES = ("pg_", "sqlite_", "information_schema")
Scope = exp.Select | exp.Insert | exp.Update | exp.Delete
OPAQUE = None  # a source whose columns are not known here (subquery, CTE, VALUES, table function)


def parse(text: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(text, read="postgres")
    except SqlglotError:
        return sqlglot.parse_one(text, read="sqlite")


def parse_statement(statement: Statement) -> exp.Expression | None:
    for text in statement.fillings():
        try:
            return parse(text)
        except SqlglotError:
            continue
    return None


def check_statement(statement: Statement, tables: dict[str, TableColumns], root: Path = ROOT) -> list[str]:
    """`path:line: problem` lines; the statement's path is shown relative to the repository."""
    where = f"{relative(statement.path, root)}:{statement.line}"
    tree = parse_statement(statement)
    if tree is None:
        return [f"{where}: cannot be parsed: {statement.text[:120]!r}"]
    return [f"{where}: {problem}" for problem in check_sql(tree, tables)]


def check_text(sql: str, tables: dict[str, TableColumns]) -> list[str]:
    return check_sql(parse(sql), tables)


def _computed(name: str) -> bool:
    return name.strip().startswith(PLACEHOLDER)


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _table_name(node: exp.Expression, ctes: set[str]) -> str | None:
    """The piccolo table a FROM/JOIN/target item reads, or None when it is no plain table."""
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier) or node.db:
        return None
    name = node.name.lower()
    return None if name in ctes or _computed(name) or name.startswith(CATALOG_PREFIXES) else name


def check_sql(tree: exp.Expression, tables: dict[str, TableColumns]) -> list[str]:
    ctes = _cte_names(tree)
    problems: list[str] = []
    for node in tree.find_all(exp.Table):
        name = _table_name(node, ctes)
        if name is not None and name not in tables:
            problems.append(f"unknown table {name}")
    checked: set[int] = set()  # columns a rule below has already judged
    for node in tree.find_all(exp.Insert):
        problems += _check_insert(node, tables, ctes, checked)
    for node in tree.find_all(exp.Update):
        target = tables.get(_table_name(node.this, ctes) or "")
        problems += _check_set(node.expressions, target, checked)
    for column in tree.find_all(exp.Column):
        if id(column) not in checked and not isinstance(column.this, exp.Star):
            problems += _check_reference(column, tables, ctes)
    return list(dict.fromkeys(problems))


def _check_insert(
    node: exp.Insert, tables: dict[str, TableColumns], ctes: set[str], checked: set[int]
) -> list[str]:
    target = node.this
    table_node = target.this if isinstance(target, exp.Schema) else target
    table = tables.get(_table_name(table_node, ctes) or "")
    if table is None:
        return []
    if not isinstance(target, exp.Schema) or not target.expressions:
        return [f"INSERT INTO {table.name} names no columns (they would follow the table's order)"]
    names = [ident.name.lower() for ident in target.expressions]
    if any(_computed(n) for n in names):
        return [f"INSERT INTO {table.name} builds its column list at run time: it cannot be checked"]
    problems = [f"unknown column {table.name}.{n}" for n in names if n not in table.columns]
    missing = sorted(table.required - set(names))
    if missing:
        problems.append(
            f"INSERT INTO {table.name} leaves out {', '.join(missing)}: the database has no default for it "
            "(a Python-side default runs in piccolo's own inserts only), name it"
        )
    conflict = node.args.get("conflict")
    if conflict is not None:
        problems += _check_set(conflict.expressions or [], table, checked)
        for key in conflict.args.get("conflict_keys") or []:
            for column in key.find_all(exp.Column):
                checked.add(id(column))
                if column.name.lower() not in table.columns:
                    problems.append(f"unknown column {table.name}.{column.name.lower()}")
    return problems


def _check_set(
    assignments: Iterable[exp.Expression], target: TableColumns | None, checked: set[int]
) -> list[str]:
    problems = []
    for eq in assignments:
        column = eq.this if isinstance(eq, exp.EQ) else None
        if isinstance(column, exp.Column):
            checked.add(id(column))
            name = column.name.lower()
            if target is not None and not _computed(name) and name not in target.columns:
                problems.append(f"unknown column {target.name}.{name}")
    return problems


def _sources(scope: exp.Expression, ctes: set[str]) -> dict[str, str | None]:
    """alias -> piccolo table name (OPAQUE where unknown) of the items a scope reads directly."""
    items: list[exp.Expression] = []
    if isinstance(scope, exp.Select):
        if scope.args.get("from_") is not None:
            items.append(scope.args["from_"].this)
        items += [join.this for join in scope.args.get("joins") or []]
    elif isinstance(scope, exp.Update):
        items.append(scope.this)
        if scope.args.get("from_") is not None:
            items.append(scope.args["from_"].this)
        items += [join.this for join in scope.args.get("joins") or []]
    elif isinstance(scope, exp.Delete):
        items += [scope.this, *(scope.args.get("using") or [])]
    elif isinstance(scope, exp.Insert):
        target = scope.this.this if isinstance(scope.this, exp.Schema) else scope.this
        items.append(target)
    out: dict[str, str | None] = {}
    for item in items:
        alias = item.alias_or_name.lower()
        out[alias] = _table_name(item, ctes)
        if isinstance(scope, exp.Insert):
            out["excluded"] = out[alias]
    return out


def _scopes(column: exp.Column) -> list[exp.Expression]:
    """The statements a column can see, nearest first (a SELECT's own, then the enclosing ones)."""
    out, node = [], column.parent
    while node is not None:
        # An INSERT's target is no source of the SELECT that feeds it.
        if isinstance(node, Scope) and not (isinstance(node, exp.Insert) and out and node.expression):
            out.append(node)
        node = node.parent
    return out


def _aliases(scope: exp.Expression) -> set[str]:
    if not isinstance(scope, exp.Select):
        return set()
    return {e.alias.lower() for e in scope.expressions if isinstance(e, exp.Alias)}


def _check_reference(column: exp.Column, tables: dict[str, TableColumns], ctes: set[str]) -> list[str]:
    name, qualifier = column.name.lower(), column.table.lower()
    if _computed(name) or _computed(qualifier):
        return []
    scopes = _scopes(column)
    for scope in scopes:
        sources = _sources(scope, ctes)
        if qualifier:
            if qualifier not in sources:
                continue
            table = tables.get(sources[qualifier] or "")
            if table is None or name in table.columns:
                return []
            return [f"unknown column {table.name}.{name} (as {qualifier}.{name})"]
        if name in _aliases(scope):
            return []
        known = [tables.get(t) if t is not OPAQUE else None for t in sources.values()]
        if any(t is None for t in known):
            return []  # a subquery, a CTE, a table function or an unknown table may hold it
        if any(name in t.columns for t in known):
            return []
    if qualifier:
        return [f"{qualifier}.{name} names no table or alias of the statement"]
    reach = sorted({t for scope in scopes for t in _sources(scope, ctes).values() if t})
    return [f"unknown column {name} (not in {', '.join(reach) or 'any table'})"] if reach else []
