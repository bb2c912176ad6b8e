"""Hand-written SQL statements in Python source, found with `ast` (nothing is imported).

A statement is a string that starts (ignoring case and leading whitespace) with SELECT, INSERT ... INTO,
UPDATE ... SET, DELETE FROM or WITH ... AS (a SELECT also names a FROM or a parameter): a plain constant
(module-level or not), an f-string, or a `+` chain of such strings. Docstrings are prose, not SQL, and
are skipped. What is computed at run time (an f-string's `{...}`, a non-string operand of `+`) becomes
a placeholder: the identifier `__fv<n>` where that parses, else nothing (`LIMIT $3{skip}`), so the
constant parts are still checked. A name of a module-level string constant
(`f"INSERT INTO t ({_COLUMNS}) ..."`) is read as its text.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEAD = re.compile(
    r"\s*(select\s|insert\s+(or\s+\w+\s+)?into\s|update\s+\S+\s+set\s|delete\s+from\s|with\s+(recursive\s+)?\S+\s+as\b)",
    re.IGNORECASE,
)
# A SELECT is SQL, not a sentence ("Select a zone"), when it reads from something or takes a parameter.
SELECT_BODY = re.compile(r"\bfrom\s|\$\d|\?", re.IGNORECASE)
PLACEHOLDER = "__fv"


@dataclass(frozen=True)
class Statement:
    path: Path
    line: int
    parts: tuple[str | None, ...]  # constant text, or None where a value is computed at run time

    @property
    def text(self) -> str:
        """With every computed part as an identifier placeholder."""
        return self.fill([True] * self.slots)

    @property
    def slots(self) -> int:
        return sum(part is None for part in self.parts)

    def fill(self, as_identifier: list[bool]) -> str:
        out, k = [], 0
        for part in self.parts:
            if part is None:
                out.append(f" {PLACEHOLDER}{k} " if as_identifier[k] else "")
                k += 1
            else:
                out.append(part)
        return "".join(out)

    def fillings(self) -> Iterator[str]:
        """Every way to fill the computed parts (identifier or nothing), all-identifier first."""
        if self.slots > 6:  # 64 parses at most; beyond that, the two uniform fillings
            yield self.fill([True] * self.slots)
            yield self.fill([False] * self.slots)
            return
        for combo in itertools.product([True, False], repeat=self.slots):
            yield self.fill(list(combo))


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _module_constants(tree: ast.Module) -> dict[str, list[str | None]]:
    """Module-level `NAME = <string expression>`, in order (a constant may use the ones above it)."""
    known: dict[str, list[str | None]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            continue
        parts = _parts(value, set(), known)
        if parts is not None:
            known[target] = parts
    return known


def _parts(
    node: ast.expr, inner: set[int], known: dict[str, list[str | None]] | None = None
) -> list[str | None] | None:
    """The text parts of a string expression, or None when it is not one."""
    known = known or {}
    if isinstance(node, ast.Name) and node.id in known:
        return list(known[node.id])
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        inner.add(id(node))
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        inner.add(id(node))
        out: list[str | None] = []
        for value in node.values:
            inner.add(id(value))
            if isinstance(value, ast.Constant):
                out.append(value.value)
            elif (
                isinstance(value.value, ast.Name)
                and value.value.id in known
                and value.conversion == -1
                and value.format_spec is None
            ):
                out.extend(known[value.value.id])
            else:
                out.append(None)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _parts(node.left, inner, known), _parts(node.right, inner, known)
        if left is None and right is None:
            return None
        inner.add(id(node))
        return (left or [None]) + (right or [None])
    return None


def statements_in(path: Path) -> list[Statement]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _docstrings(tree)
    known = _module_constants(tree)
    found, inner = [], set()
    for node in ast.walk(tree):  # breadth first: a `+` chain is met before the strings inside it
        if id(node) in inner or id(node) in skip or not isinstance(node, ast.expr):
            continue
        parts = _parts(node, inner, known)
        if parts is None or isinstance(node, ast.Name):
            continue
        first = next((p for p in parts if p is not None), "")
        if parts[0] is not None and (head := HEAD.match(first)):
            text = "".join(p for p in parts if p is not None)
            if not head.group(1).lower().startswith("select") or SELECT_BODY.search(text):
                found.append(Statement(path, node.lineno, tuple(parts)))
    return sorted(found, key=lambda s: s.line)
