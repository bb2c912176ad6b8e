"""The person's language: message catalogues (gettext .po, compiled at import by Babel) in Chinese and
English, and the choice between them (the user's stored language, else Accept-Language, else zh)."""

from backend.i18n.catalogue import DEFAULT_LANGUAGE, LANGUAGES, translate
from backend.i18n.negotiate import choose, from_accept_language
from backend.i18n.times import local_datetime, local_time

# These read the users table: imported when first used, so the pure parts (the face package's reasons,
# the catalogues) load without the database layer.
_PEOPLE = ("language_for", "language_of", "texts_for")


def __getattr__(name: str):
    if name in _PEOPLE:
        from backend.i18n import people

        return getattr(people, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "choose",
    "from_accept_language",
    "language_for",
    "language_of",
    "local_datetime",
    "local_time",
    "reason_texts",
    "texts_for",
    "translate",
]


def reason_texts(codes: list[str] | None, language: str) -> list[str]:
    """What each machine-readable reason code means, for the person, in their language."""
    return [
        translate(f"reason.{code}", language, fallback="reason.unknown", code=code) for code in codes or []
    ]
