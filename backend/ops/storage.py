"""File storage behind a small interface; the local implementation writes content-addressed files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from backend.core.errors import InvalidInput

MAX_FILE_BYTES = 10 * 1024 * 1024


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def put(self, data: bytes, name: str) -> dict:
        """Store bytes under their SHA-256 (hashed as written) and describe them for the record."""
        if len(data) > MAX_FILE_BYTES:
            raise InvalidInput("files", f"each file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        digest = hashlib.sha256(data).hexdigest()
        path = self._root / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        return {"name": name[:200], "sha256": digest, "size": len(data)}

    def path_of(self, sha256: str) -> Path:
        return self._root / sha256[:2] / sha256
