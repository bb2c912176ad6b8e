"""Messages in the outbox for tests: a person to send to, queued messages, their rows."""

from __future__ import annotations

import uuid

from backend.accounts.tables import User
from backend.core.clock import utcnow
from backend.notify import services as notify
from backend.notify.tables import Notification


async def person(phone: str | None = None) -> User:
    user = User(role="citizen", phone=phone, display_name="", created_at=utcnow())
    await user.save()
    return user


async def queue(user: User, n: int = 1) -> list[str]:
    tag = uuid.uuid4().hex
    for i in range(n):
        await notify.enqueue(
            user.id, "test", f"outbox {tag}", f"message {i}", f"outbox:{tag}:{i}", urgent=True
        )
    return [f"outbox:{tag}:{i}:sms" for i in range(n)]


async def note(key: str) -> Notification:
    return await Notification.objects().where(Notification.dedupe_key == key).first()
