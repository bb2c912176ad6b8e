"""The rights-and-obligations notice: versioned texts in Chinese and English, and their acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from backend.core.crypto import sha256_hex
from backend.core.errors import InvalidInput

CURRENT_VERSION = "v1"
LANGUAGES = ("zh", "en")
_DIR = Path(__file__).parent / "notice_texts"


@dataclass(frozen=True)
class NoticeText:
    version: str
    language: str
    text: str

    @property
    def sha256(self) -> str:
        return sha256_hex(self.text)


@cache
def notice(language: str, version: str = CURRENT_VERSION) -> NoticeText:
    if language not in LANGUAGES:
        raise InvalidInput("language", f"must be one of {', '.join(LANGUAGES)}")
    path = _DIR / f"{version}.{language}.txt"
    if not path.exists():
        raise InvalidInput("version", f"no notice {version}")
    return NoticeText(version, language, path.read_text(encoding="utf-8"))
