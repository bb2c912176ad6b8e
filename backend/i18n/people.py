"""A user's language: what they stored, else what their request asks for, else zh."""

from __future__ import annotations

from backend.accounts import store as accounts_store
from backend.i18n.catalogue import translate
from backend.i18n.negotiate import choose


async def stored_language(user_id: object) -> str | None:
    """What the user chose (users.language, read by the accounts store), or None."""
    return await accounts_store.language_of_user(user_id)


async def language_of(user_id: object) -> str:
    """For messages sent outside a request (SMS, inbox): the stored language, else zh."""
    return choose(await stored_language(user_id), None)


async def language_for(user_id: object, accept_language: str | None) -> str:
    """For an answer to the user's own request: the stored language, else Accept-Language, else zh."""
    return choose(await stored_language(user_id), accept_language)


async def texts_for(user_id: object, key: str, **params: object) -> tuple[str, str]:
    """A notification's title and body (`<key>.title`, `<key>.body`) in the recipient's language."""
    language = await language_of(user_id)
    return translate(f"{key}.title", language, **params), translate(f"{key}.body", language, **params)
