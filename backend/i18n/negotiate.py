"""Which language to answer in: the user's stored choice, else the request's Accept-Language, else zh."""

from __future__ import annotations

from backend.i18n.catalogue import DEFAULT_LANGUAGE, LANGUAGES


def _quality(part: str) -> float:
    for param in part.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages an Accept-Language header asks for (RFC 9110 q-values), or None.

    Any Chinese (zh, zh-CN, zh-Hans, zh-TW, ...) is zh and any English is en: there is one text of each."""
    if not header:
        return None
    ranked = []
    for order, part in enumerate(header.split(",")):
        tag = part.split(";")[0].strip().lower()
        q = _quality(part)
        if tag and q > 0:
            ranked.append((-q, order, tag.split("-")[0]))
    for _, _, primary in sorted(ranked):
        if primary in LANGUAGES:
            return primary
    return None


def choose(stored: str | None, accept_language: str | None) -> str:
    if stored in LANGUAGES:
        return stored
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE
