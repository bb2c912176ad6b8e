"""The person's signing device: offline captures are signed by it (checked in checkins/services.py)."""

from __future__ import annotations

from backend.accounts.principal import Principal
from backend.audit import services as audit
from backend.core.clock import utcnow
from backend.core.crypto import b64d
from backend.core.errors import InvalidInput
from backend.db.engine import write_tx
from backend.supervision.measures.tables import Device


async def register_device(principal: Principal, public_key_b64: str, label: str) -> Device:
    try:
        raw = b64d(public_key_b64)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidInput("public_key", "must be a raw 32-byte Ed25519 public key, base64url")
    now = utcnow()
    async with write_tx():
        # One signing device at a time: a new phone replaces the old one.
        await Device.update({Device.revoked_at: now}).where(
            (Device.person == principal.user_id) & Device.revoked_at.is_null()
        )
        device = Device(
            person=principal.user_id, public_key=public_key_b64, label=label[:100], enrolled_at=now
        )
        await device.save()
        await audit.record(
            principal.actor, "device.registered", "user", principal.user_id, {"device": str(device.id)}
        )
    return device
