"""Demo data for local runs: agencies of each kind, a staff member of each role, a citizen, a supervisee.

Passwords and authenticator secrets are generated per install and kept in var/demo-logins.json (never in
the repository). Running it again prints the same logins and creates nothing new.
"""

from __future__ import annotations

import json
import secrets

import pyotp

from backend.accounts.passwords import hash_password
from backend.accounts.roles import AgencyKind, Role
from backend.accounts.tables import Agency, User
from backend.audit import services as audit
from backend.core.context import SYSTEM
from backend.core.keyring import KeyRing, RingBox
from backend.db.engine import close_database, open_database, write_tx
from backend.settings import get_settings

AGENCIES = [
    ("police", AgencyKind.POLICE, "Hangzhou Public Security Bureau", "330100"),
    ("procuratorate", AgencyKind.PROCURATORATE, "Hangzhou People's Procuratorate", "330100"),
    ("court", AgencyKind.COURT, "Hangzhou Intermediate People's Court", "330100"),
    ("justice", AgencyKind.JUSTICE_BUREAU, "Hangzhou Justice Bureau", "330100"),
]
STAFF = [
    ("admin", Role.ADMIN, None, "Platform Administrator"),
    ("officer", Role.OFFICER, "police", "Officer Li Wei"),
    ("prosecutor", Role.PROSECUTOR, "procuratorate", "Prosecutor Zhang Min"),
    ("judge", Role.JUDGE, "court", "Judge Chen Jing"),
    ("corrections", Role.CORRECTIONS_OFFICER, "justice", "Corrections Officer Wang Fang"),
]
CITIZEN_PHONE = "+8613800000001"
SUPERVISEE_PHONE = "+8613800000002"


async def seed_demo() -> dict:
    settings = get_settings()
    logins_file = settings.var_dir / "demo-logins.json"
    if logins_file.exists():
        return json.loads(logins_file.read_text())
    box = RingBox(settings.keys or KeyRing.single(settings.secret_key), "totp-secret")
    logins: dict = {"staff": [], "phone": []}
    await open_database()
    try:
        async with write_tx():
            agencies = {}
            for key, kind, name, region in AGENCIES:
                agency = Agency(kind=kind, name=name, region_code=region)
                await agency.save()
                await audit.record(SYSTEM, "agency.created", "agency", agency.id, agency.to_dict(), agency.id)
                agencies[key] = agency
            for username, role, agency_key, display in STAFF:
                password, totp = secrets.token_urlsafe(12), pyotp.random_base32()
                agency = agencies.get(agency_key)
                user = User(
                    role=role,
                    agency=agency.id if agency else None,
                    region_code=agency.region_code if agency else None,
                    display_name=display,
                    username=username,
                    password_hash=hash_password(password),
                    totp_secret=box.seal(totp.encode(), b"totp"),
                )
                await user.save()
                await audit.record(SYSTEM, "user.created", "user", user.id, {"role": role}, user.agency)
                logins["staff"].append(
                    {"username": username, "role": role, "password": password, "totp_secret": totp}
                )
            for phone, role, name in [
                (CITIZEN_PHONE, Role.CITIZEN, "Citizen Zhao Lei"),
                (SUPERVISEE_PHONE, Role.SUPERVISEE, "Supervised Person Sun Qiang"),
            ]:
                agency = agencies["police"] if role == Role.SUPERVISEE else None
                user = User(
                    role=role,
                    phone=phone,
                    display_name=name,
                    agency=agency.id if agency else None,
                    region_code="330106",
                )
                await user.save()
                await audit.record(SYSTEM, "user.created", "user", user.id, {"role": role}, user.agency)
                logins["phone"].append({"phone": phone, "role": role})
    finally:
        await close_database()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    logins_file.write_text(json.dumps(logins, indent=2))
    logins_file.chmod(0o600)
    return logins
