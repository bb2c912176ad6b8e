"""Message catalogues: one gettext .po file per language under locale/<lang>/LC_MESSAGES/messages.po.

Message ids are stable keys ("reminder.checkin.body"); texts use {name} placeholders (python-brace-format).
The .po files are the source: they are compiled to .mo in memory with Babel when first used, so a fresh
clone needs no build step and no binaries are committed.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"  # the product's default: a person with no stored or requested language reads Chinese
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(language: str) -> gettext.GNUTranslations:
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def messages(language: str) -> dict[str, str]:
    """Every message id of a language with its text (for the catalogue checks)."""
    return {k: v for k, v in _translations(language)._catalog.items() if k}  # type: ignore[attr-defined]


def translate(msgid: str, language: str, *, fallback: str | None = None, **params: object) -> str:
    """The text of `msgid` in `language` (zh for an unknown language), with its placeholders filled.

    A message missing from the language falls back to `fallback` (another message id), then to the
    default language's text, then to the id itself: a person is never shown a crash instead of a text."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    for lang, key in ((language, msgid), (language, fallback), (DEFAULT_LANGUAGE, msgid)):
        if key is None:
            continue
        text = _translations(lang).gettext(key)
        if text != key:
            return text.format(**params) if params else text
    return msgid
