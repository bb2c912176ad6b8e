"""No source file over 400 lines: a reader takes a module in at one sitting (issue 15)."""

from __future__ import annotations

from tests.unit.architecture.imports import ROOT, relative

MAX_LINES = 400
# The product's code; geofence/ and templates/ are held to the same size as the rest.
FOLDERS = ("backend", "mobile_api", "webrtc", "geofence", "templates")
# Source, not data: message catalogues (.po), notice texts and docs may run longer.
SOURCE_SUFFIXES = {".py", ".js", ".mjs", ".ts", ".css", ".html", ".jinja", ".j2", ".sql"}
SKIPPED_FOLDERS = {"migrations", "__pycache__", "node_modules", "vendor"}


def over_limit() -> list[str]:
    found = []
    for folder in FOLDERS:
        base = ROOT / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            if SKIPPED_FOLDERS & set(path.relative_to(ROOT).parts):
                continue
            lines = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
            if lines > MAX_LINES:
                found.append(f"{relative(path)}: {lines} lines")
    return found


def test_no_source_file_is_over_400_lines() -> None:
    found = over_limit()
    assert not found, "\n".join(found)
