"""A user's own choice of language for SMS, inbox items and the texts the app shows."""

from __future__ import annotations

from backend.accounts.principal import Principal
from backend.accounts.tables import User
from backend.audit import services as audit
from backend.core.errors import InvalidInput, NotFound
from backend.db.engine import write_tx
from backend.i18n.catalogue import LANGUAGES


async def set_language(principal: Principal, language: str | None) -> User:
    """Store the caller's language (None clears it), with an audit row naming the old and new choice."""
    if language is not None and language not in LANGUAGES:
        raise InvalidInput("language", f"must be one of {', '.join(LANGUAGES)} or null")
    async with write_tx():
        user = await User.objects().where(User.id == principal.user_id).first()
        if user is None:
            raise NotFound("user")
        if user.language != language:
            await audit.record(
                principal.actor,
                "user.language_set",
                "user",
                user.id,
                {"from": user.language, "to": language},
                user.agency,
            )
            await User.update({User.language: language}).where(User.id == user.id)
            user.language = language
    return user
