"""Which modules a source file imports, read with `ast` (nothing is imported), and rules over them.

An import counts wherever it stands: at the top, inside a function (a lazy import), under
`if TYPE_CHECKING:`. Relative imports are resolved against the file's package. A rule names the files it
covers and the module prefixes they must not import; a violation reads `path:line imports module`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # dotted, absolute; `from a import b` yields a.b as well as a (b may be a module)


def module_name(path: Path, root: Path = ROOT) -> str:
    """`backend/db/sql.py` -> `backend.db.sql`; a package's `__init__.py` -> the package."""
    parts = list(path.resolve().relative_to(root.resolve()).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            yield Import(path, node.lineno, parent)
            for alias in node.names:
                if alias.name != "*":
                    yield Import(path, node.lineno, f"{parent}.{alias.name}")


def matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def python_files(*folders: str) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        base = ROOT / folder
        if base.is_dir():
            out.extend(p for p in sorted(base.rglob("*.py")) if "__pycache__" not in p.parts)
    return out


def relative(path: Path, root: Path = ROOT) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def violations(
    files: Iterable[Path],
    forbidden: Iterable[str] = (),
    forbid: Callable[[str], bool] | None = None,
    root: Path = ROOT,
) -> list[str]:
    """`path:line imports module` for every import of a forbidden prefix (or one `forbid` says no to);
    one line per (file, line), naming the shortest offending module (`litestar`, not `litestar.Request`)."""
    prefixes = tuple(forbidden)
    found: dict[tuple[str, int], str] = {}
    for path in files:
        for imp in imports_of(path, root):
            if any(matches(imp.module, p) for p in prefixes) or (forbid is not None and forbid(imp.module)):
                key = (relative(path, root), imp.line)
                if key not in found or len(imp.module) < len(found[key]):
                    found[key] = imp.module
    return [f"{path}:{line} imports {module}" for (path, line), module in sorted(found.items())]
