"""Object-level access: own records only for phone users; agency, jurisdiction and grants for staff."""

from __future__ import annotations

import uuid

from backend.accounts.tables import AccessGrant
from tests.support.api import bearer, demo_staff, phone_login, random_phone, staff_login


async def _agency(client, admin, kind: str, name: str, region: str) -> dict:
    response = await client.post(
        "/api/v1/agencies", json={"kind": kind, "name": name, "region_code": region}, headers=bearer(admin)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _officer_in(client, admin, agency: dict, username: str) -> dict:
    created = await client.post(
        "/api/v1/users",
        json={
            "role": "officer",
            "username": username,
            "display_name": username,
            "password": "long enough password",
            "agency_id": agency["id"],
        },
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    return await staff_login(client, username, "long enough password", created.json()["totp_secret"])


async def _supervisee(client, officer) -> dict:
    response = await client.post(
        "/api/v1/supervisees",
        json={"phone": random_phone(), "display_name": "Person", "region_code": "330106"},
        headers=bearer(officer),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_phone_user_reading_another_users_record_gets_404(client):
    alice = await phone_login(client)
    bob = await phone_login(client)
    foreign = await client.get(f"/m/v1/me/sessions/{bob['session_id']}", headers=bearer(alice))
    assert foreign.status_code == 404
    unknown = await client.get(f"/m/v1/me/sessions/{uuid.uuid4()}", headers=bearer(alice))
    assert unknown.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]  # existence does not leak
    ending = await client.delete(f"/m/v1/me/sessions/{bob['session_id']}", headers=bearer(alice))
    assert ending.status_code == 404
    assert (await client.get("/m/v1/me", headers=bearer(bob))).status_code == 200
    mine = await client.get(f"/m/v1/me/sessions/{alice['session_id']}", headers=bearer(alice))
    assert mine.status_code == 200


async def test_phone_users_cannot_use_the_console_and_staff_cannot_use_the_app(client, demo_logins):
    citizen = await phone_login(client)
    officer = await demo_staff(client, demo_logins, "officer")
    assert (await client.get("/api/v1/me", headers=bearer(citizen))).status_code == 403
    assert (await client.get("/api/v1/users", headers=bearer(citizen))).status_code == 403
    assert (await client.get("/m/v1/me", headers=bearer(officer))).status_code == 403


async def test_officers_see_their_agency_and_subordinates_but_not_others(client, demo_logins):
    admin = await demo_staff(client, demo_logins, "admin")
    city = await _agency(client, admin, "police", "Ningbo PSB", "330200")
    district = await _agency(client, admin, "police", "Haishu PSB", "330203")
    elsewhere = await _agency(client, admin, "police", "Wenzhou PSB", "330300")
    city_officer = await _officer_in(client, admin, city, "nb.city")
    district_officer = await _officer_in(client, admin, district, "nb.haishu")
    other_officer = await _officer_in(client, admin, elsewhere, "wz.officer")

    person = await _supervisee(client, district_officer)
    path = f"/api/v1/users/{person['id']}"
    assert (await client.get(path, headers=bearer(district_officer))).status_code == 200
    assert (await client.get(path, headers=bearer(city_officer))).status_code == 200  # oversees the district
    assert (await client.get(path, headers=bearer(other_officer))).status_code == 404

    city_person = await _supervisee(client, city_officer)
    assert (
        await client.get(f"/api/v1/users/{city_person['id']}", headers=bearer(district_officer))
    ).status_code == 404

    listed = (
        await client.get("/api/v1/users", params={"role": "supervisee"}, headers=bearer(other_officer))
    ).json()
    assert person["id"] not in {u["id"] for u in listed["items"]}

    # A transfer grants the receiving agency access from then on.
    await AccessGrant.insert(AccessGrant(object_type="user", object_id=person["id"], agency=elsewhere["id"]))
    assert (await client.get(path, headers=bearer(other_officer))).status_code == 200


async def test_unknown_ids_are_404_for_staff(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    assert (await client.get(f"/api/v1/users/{uuid.uuid4()}", headers=bearer(officer))).status_code == 404
    assert (await client.get(f"/api/v1/agencies/{uuid.uuid4()}", headers=bearer(officer))).status_code == 404
    assert (await client.get("/api/v1/users/not-a-uuid", headers=bearer(officer))).status_code in (400, 404)


async def test_only_admins_create_accounts_and_only_platform_admins_create_agencies(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    response = await client.post(
        "/api/v1/agencies",
        json={"kind": "police", "name": "Rogue", "region_code": "330100"},
        headers=bearer(officer),
    )
    assert response.status_code == 403
    staff = await client.post(
        "/api/v1/users",
        json={"role": "admin", "username": "sneaky", "display_name": "x", "password": "long enough password"},
        headers=bearer(officer),
    )
    assert staff.status_code == 403


async def test_roles_must_match_the_agency_kind(client, demo_logins):
    admin = await demo_staff(client, demo_logins, "admin")
    police = next(
        a
        for a in (await client.get("/api/v1/agencies", params={"limit": 200}, headers=bearer(admin))).json()[
            "items"
        ]
        if a["kind"] == "police"
    )
    response = await client.post(
        "/api/v1/users",
        json={
            "role": "judge",
            "username": "judge.in.police",
            "display_name": "x",
            "password": "long enough password",
            "agency_id": police["id"],
        },
        headers=bearer(admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
