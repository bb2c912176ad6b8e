"""Late offline check-ins: a device's valid signature is accepted, a forged one rejected."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.core.clock import utcnow
from backend.core.crypto import b64e
from backend.supervision.checkins.receipts import canonical
from backend.supervision.checkins.submission import Submission
from backend.supervision.checkins.tables import CheckinWindow
from tests.support.api import bearer, demo_staff
from tests.support.supervision import SELFIE, acknowledge, checkin_body, enrol_and_place, open_window


def _device_key():
    key = Ed25519PrivateKey.generate()
    return key, b64e(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


async def test_late_offline_checkin_with_valid_and_forged_signatures(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    measure_id, phone = case["measure"]["id"], case["phone"]
    await acknowledge(client, phone)
    key, public = _device_key()
    device = (
        await client.post(
            "/m/v1/devices", json={"public_key": public, "label": "test phone"}, headers=bearer(phone)
        )
    ).json()

    async def closed_window() -> tuple[dict, datetime]:
        window = await open_window(client, officer, measure_id)
        now = utcnow()
        # Captured inside the window, which has since closed; the grace period is still running.
        await CheckinWindow.update(
            {
                CheckinWindow.opens_at: now - timedelta(minutes=50),
                CheckinWindow.closes_at: now - timedelta(minutes=20),
                CheckinWindow.grace_until: now + timedelta(minutes=60),
            }
        ).where(CheckinWindow.id == window["id"])
        return window, now - timedelta(minutes=30)

    def offline_body(window: dict, captured: datetime, signer) -> dict:
        body = checkin_body(
            captured_at=captured.isoformat(), window_id=window["id"], offline=True, device_id=device["id"]
        )
        body["location"]["t"] = captured.isoformat()
        sub = Submission(
            captured_at=captured,
            latitude=30.2741,
            longitude=120.1551,
            accuracy_m=12.0,
            fix_time=captured,
            selfie=base64.b64decode(SELFIE),
            window_id=window["id"],
            offline=True,
        )
        body["signature"] = b64e(signer.sign(canonical(sub.signed_payload(measure_id))))
        return body

    window, captured = await closed_window()
    online_late = await client.post(
        "/m/v1/checkins",
        json=checkin_body(captured_at=captured.isoformat(), window_id=window["id"]),
        headers=bearer(phone),
    )
    assert online_late.status_code == 422  # too old for an online check-in
    valid = await client.post(
        "/m/v1/checkins", json=offline_body(window, captured, key), headers=bearer(phone)
    )
    assert valid.status_code == 201, valid.text
    # No face enrolled: doubtful, not accepted (an officer is asked to enrol it).
    assert valid.json()["outcome"] == "doubtful" and valid.json()["offline"] is True
    assert valid.json()["reasons"] == ["face_not_enrolled"]

    window, captured = await closed_window()
    forger, _ = _device_key()
    forged = await client.post(
        "/m/v1/checkins", json=offline_body(window, captured, forger), headers=bearer(phone)
    )
    assert forged.json()["outcome"] == "rejected"
    assert "offline_signature_invalid" in forged.json()["reasons"]
    assert forged.json()["receipt"]  # a receipt even for a rejected submission
    tampered = offline_body(window, captured, key)
    tampered["location"]["lat"] = 31.0
    assert (await client.post("/m/v1/checkins", json=tampered, headers=bearer(phone))).json()[
        "outcome"
    ] == "rejected"
    future = offline_body(window, utcnow() + timedelta(hours=1), key)
    assert (await client.post("/m/v1/checkins", json=future, headers=bearer(phone))).status_code == 422
