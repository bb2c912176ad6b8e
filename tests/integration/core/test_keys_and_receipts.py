"""Keys rotate and the past stays valid; receipts are JWS that a stock JOSE library verifies from the JWKS.

The rotation is the real one: `remotecase keys rotate` writes the development key store, the settings read
it, and a second app on the same database stands for the servers after their restart.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from backend.accounts.tables import User
from backend.app import create_app
from backend.biometrics.tables import FaceTemplateRecord
from backend.core.keyring import KeyRing, RingKey, RingTokenSigner, blob_kid, token_kid
from backend.settings import get_settings, load_settings
from tests.support.api import bearer, demo_staff, staff_credentials, staff_login
from tests.support.supervision import acknowledge, checkin_body, enrol_and_place, open_window

_ROOT = Path(__file__).resolve().parents[3]
FACES = Path(os.environ.get("FACES_DIR", "../shared/faces"))


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def court_verifies(receipt: str, jwks: dict) -> dict:
    """A court's check: the receipt and the published JWKS, through a JOSE library the product never uses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc notes RFC 9864's new name for EdDSA
        compact = jws.deserialize_compact(receipt, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    return json.loads(compact.payload)


def _header(compact: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(compact.split(".")[0] + "=="))


@pytest.fixture
async def rotated(tmp_path, monkeypatch):
    """`remotecase keys rotate` in development, then an app on the rotated ring (same database)."""
    done = _cli("keys", "rotate", REMOTECASE_VAR_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    entry = done.stdout.strip().splitlines()[-1]
    kid = entry.split(":")[0]
    monkeypatch.setenv("REMOTECASE_VAR_DIR", str(tmp_path))
    ring = load_settings().keys
    assert ring.current.kid == kid and ring.legacy is not None
    listed = _cli("keys", "list", REMOTECASE_VAR_DIR=str(tmp_path))
    assert listed.returncode == 0 and listed.stdout.splitlines()[0] == f"{kid}  current"
    assert entry.split(":")[1] not in listed.stdout + listed.stderr  # kids only, never key material
    monkeypatch.undo()
    app = create_app(dataclasses.replace(get_settings(), keys=ring))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, ring
    await app.state.services.close()


async def _checkin_receipt(client, officer, case) -> str:
    await open_window(client, officer, case["measure"]["id"])
    done = await client.post("/m/v1/checkins", json=checkin_body(), headers=bearer(case["phone"]))
    assert done.status_code == 201, done.text
    return done.json()["receipt"]


async def test_everything_issued_before_a_rotation_still_works(client, demo_logins, rotated):
    after, ring = rotated
    old_kid = get_settings().keys.current.kid
    # Issued before: staff and phone tokens, a receipt; the demo TOTP secrets were sealed at seed time.
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await acknowledge(client, case["phone"])
    old_receipt = await _checkin_receipt(client, officer, case)
    assert token_kid(officer["access_token"]) == old_kid and _header(old_receipt)["kid"] == old_kid

    # After the rotation: the old access tokens still open their sessions, the refresh token still trades.
    assert (await after.get("/api/v1/me", headers=bearer(officer))).status_code == 200
    assert (await after.get("/m/v1/me", headers=bearer(case["phone"]))).status_code == 200
    traded = await after.post("/m/v1/auth/refresh", json={"refresh_token": case["phone"]["refresh_token"]})
    assert traded.status_code == 200 and token_kid(traded.json()["access_token"]) == ring.current.kid
    # The TOTP secret sealed before still opens: the officer logs in, and the new token names the new key.
    creds = staff_credentials(demo_logins, "officer")
    fresh = await staff_login(after, "officer", creds["password"], creds["totp_secret"])
    assert token_kid(fresh["access_token"]) == ring.current.kid
    # Servers that never got the new key refuse its tokens as unauthenticated, not with a 500.
    refused = await client.get("/api/v1/me", headers=bearer(fresh))
    assert refused.status_code == 401 and refused.json()["type"].endswith("not-authenticated")

    # A TOTP secret sealed after the rotation names the new key, and opens.
    admin = await staff_login(after, "admin", *_creds(demo_logins, "admin"))
    agencies = (await after.get("/api/v1/agencies", headers=bearer(admin))).json()["items"]
    police = next(a for a in agencies if a["kind"] == "police")
    created = await after.post(
        "/api/v1/users",
        json={
            "role": "officer",
            "username": f"rotated.{ring.current.kid}",
            "display_name": "Officer After Rotation",
            "password": "correct horse battery",
            "agency_id": police["id"],
        },
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    user = await User.objects().where(User.id == created.json()["user"]["id"]).first()
    assert blob_kid(bytes(user.totp_secret)) == ring.current.kid
    await staff_login(after, user.username, "correct horse battery", created.json()["totp_secret"])

    # Receipts: the JWKS lists both keys; the old receipt and a new one verify with a stock library.
    jwks = (await after.get("/.well-known/jwks.json")).json()
    assert (await after.get("/m/v1/receipts/jwks")).json() == jwks
    assert {k["kid"] for k in jwks["keys"]} == {ring.current.kid, old_kid}
    assert court_verifies(old_receipt, jwks)["checkin_id"]
    new_officer = await staff_login(after, "officer", *_creds(demo_logins, "officer"))
    new_case = await enrol_and_place(after, new_officer)
    await acknowledge(after, new_case["phone"])
    new_receipt = await _checkin_receipt(after, new_officer, new_case)
    assert _header(new_receipt) == {"alg": "EdDSA", "kid": ring.current.kid, "typ": "JWT"}
    payload = court_verifies(new_receipt, jwks)
    assert payload["person_id"] == new_case["person_id"] and payload["type"] == "checkin"
    key = (await after.get("/m/v1/receipts/public-key")).json()
    assert key["kid"] == ring.current.kid and key["algorithm"] == "Ed25519"
    assert key["public_key"] == next(k["x"] for k in jwks["keys"] if k["kid"] == ring.current.kid)


def _creds(demo_logins: dict, username: str) -> tuple[str, str]:
    creds = staff_credentials(demo_logins, username)
    return creds["password"], creds["totp_secret"]


async def test_the_jwks_is_public_cacheable_and_holds_no_private_key(client):
    for path in ("/.well-known/jwks.json", "/m/v1/receipts/jwks"):
        response = await client.get(path)
        assert response.status_code == 200
        assert "public" in response.headers["cache-control"]
        (key,) = response.json()["keys"]
        assert key == {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": key["x"],
            "kid": get_settings().keys.current.kid,
            "use": "sig",
            "alg": "EdDSA",
        }


async def test_a_token_signed_by_an_unknown_key_is_refused_with_401(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    claims = json.loads(base64.urlsafe_b64decode(officer["access_token"].split(".")[1] + "=="))
    stranger = KeyRing((RingKey("stranger", os.urandom(32)),))
    forged = RingTokenSigner(stranger, "access-token").sign(claims)
    for path in ("/api/v1/me", "/m/v1/me"):
        response = await client.get(path, headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.skipif(not FACES.is_dir(), reason="set FACES_DIR to the LFW photo folder")
async def test_a_face_template_sealed_before_a_rotation_still_verifies(client, demo_logins, rotated):
    after, ring = rotated
    photo = (FACES / "George_W_Bush" / "George_W_Bush_{:04d}.jpg").as_posix()

    def jpeg(n: int) -> str:
        return base64.b64encode(Path(photo.format(n)).read_bytes()).decode()

    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    enrolled = await client.post(
        f"/api/v1/measures/{case['measure']['id']}/face-enrolment",
        json={"photos_jpeg_base64": [jpeg(n) for n in (1, 2, 3)]},
        headers=bearer(officer),
    )
    assert enrolled.status_code == 201, enrolled.text
    record = await FaceTemplateRecord.objects().where(FaceTemplateRecord.person == case["person_id"]).first()
    assert blob_kid(bytes(record.sealed)) == get_settings().keys.current.kid != ring.current.kid
    await acknowledge(client, case["phone"])
    await open_window(after, officer, case["measure"]["id"])
    done = await after.post(
        "/m/v1/checkins", json=checkin_body(selfie_jpeg_base64=jpeg(5)), headers=bearer(case["phone"])
    )
    assert done.status_code == 201, done.text
    assert done.json()["outcome"] == "accepted", done.json()


def test_production_without_keys_refuses_to_start_and_writes_no_key(tmp_path):
    env = {"REMOTECASE_ENV": "production", "REMOTECASE_VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": ""}
    done = _cli("migrate", **env)
    assert done.returncode == 2, done.stderr
    assert "SECRET_KEYS must be set in production" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()  # no per-host key file
    key = base64.b64encode(os.urandom(32)).decode()
    bad = _cli("keys", "list", **env, SECRET_KEYS=f"k1:{key},k1:{key}", CURRENT_KEY_ID="k9")
    assert bad.returncode == 2 and key not in bad.stderr
    assert "SECRET_KEYS key id 'k1' appears twice" in bad.stderr
    assert "CURRENT_KEY_ID names no key" in bad.stderr
    good = _cli("keys", "list", **env, SECRET_KEYS=f"k2:{key},k1:{key}", CURRENT_KEY_ID="k1")
    assert good.returncode == 0 and good.stdout.split() == ["k1", "current", "k2"]
    printed = _cli("keys", "rotate", **env)  # production: printed for the shared settings, stored nowhere
    assert printed.returncode == 0 and ":" in printed.stdout and not (tmp_path / "var").exists()
