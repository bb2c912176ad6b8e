"""Enrolling the number of someone who already uses the app as a citizen: refused unless the officer links
that account explicitly; a link keeps the name its owner chose and leaves an audit row naming the old role
and the officer. Two officers linking the same citizen at once: one links, the other gets 409."""

from __future__ import annotations

import asyncio

from backend.accounts.tables import User
from backend.audit.services import digest_of
from backend.audit.tables import AuditEntry
from tests.support.api import bearer, demo_staff, phone_login, random_phone

OWN_NAME = "Zhao Min (chosen by herself)"


async def _new_citizen(client) -> tuple[str, str]:
    """A citizen of the app (her first phone login made the account) with the name she chose."""
    tokens = await phone_login(client)
    phone = tokens["phone"]
    await User.update({User.display_name: OWN_NAME}).where(User.phone == phone)
    user = await User.objects().where(User.phone == phone).first()
    assert user.role == "citizen"
    return phone, str(user.id)


def _body(phone: str, **extra) -> dict:
    return {"phone": phone, "display_name": "Officer's Name For Her", "region_code": "330106"} | extra


async def test_a_citizens_number_is_refused_without_an_explicit_link(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    phone, user_id = await _new_citizen(client)

    refused = await client.post("/api/v1/supervisees", json=_body(phone), headers=bearer(officer))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["errors"][0]["field"] == "phone"
    assert "link_existing_citizen" in problem["detail"]
    for revealing in ("zhao", "chosen", user_id):
        assert revealing not in refused.text.lower()
    user = await User.objects().where(User.id == user_id).first()
    assert (user.role, user.display_name, user.agency) == ("citizen", OWN_NAME, None)


async def test_an_explicit_link_keeps_the_account_and_its_name_and_is_audited(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    phone, user_id = await _new_citizen(client)

    linked = await client.post(
        "/api/v1/supervisees", json=_body(phone, link_existing_citizen=True), headers=bearer(officer)
    )
    assert linked.status_code == 201, linked.text
    person = linked.json()
    assert person["id"] == user_id  # the same account: her phone login keeps working
    assert person["role"] == "supervisee"
    assert person["display_name"] == OWN_NAME
    assert person["agency_id"] == me["agency_id"] and person["region_code"] == "330106"

    rows = await AuditEntry.objects().where(AuditEntry.object_id == user_id).order_by(AuditEntry.at)
    assert [r.action for r in rows] == ["user.registered", "user.citizen_linked"]  # her login, the link
    row = rows[-1]
    assert (row.actor_id, row.actor_role) == (me["id"], "officer")
    expected = {
        "phone": phone,
        "previous_role": "citizen",
        "role": "supervisee",
        "officer_id": me["id"],
        "display_name_replaced": False,
    }
    assert row.change_digest == digest_of(expected)

    # Once supervised, the number gets the one answer every taken number gets, link or not.
    again = await client.post(
        "/api/v1/supervisees", json=_body(phone, link_existing_citizen=True), headers=bearer(officer)
    )
    assert again.status_code == 409
    plain = await client.post("/api/v1/supervisees", json=_body(random_phone()), headers=bearer(officer))
    taken = await client.post(
        "/api/v1/supervisees", json=_body(plain.json()["phone"]), headers=bearer(officer)
    )
    assert again.json()["detail"] == taken.json()["detail"]
    assert "link_existing_citizen" not in again.json()["detail"]


async def test_a_link_takes_the_officers_name_only_when_asked(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    phone, user_id = await _new_citizen(client)
    linked = await client.post(
        "/api/v1/supervisees",
        json=_body(phone, link_existing_citizen=True, replace_display_name=True),
        headers=bearer(officer),
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["display_name"] == "Officer's Name For Her"
    assert (await User.objects().where(User.id == user_id).first()).display_name == "Officer's Name For Her"


async def test_two_officers_linking_one_citizen_at_once_link_it_once(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    corrections = await demo_staff(client, demo_logins, "corrections")
    for _ in range(3):  # several rounds: on PostgreSQL both requests run side by side
        phone, user_id = await _new_citizen(client)
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/supervisees", json=_body(phone, link_existing_citizen=True), headers=bearer(who)
                )
                for who in (officer, corrections, officer, corrections)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201, 409, 409, 409], [a.text[:200] for a in answers]
        assert all(a.json()["errors"][0]["field"] == "phone" for a in answers if a.status_code == 409)
        winner = next(a.json() for a in answers if a.status_code == 201)
        assert winner["id"] == user_id
        links = await AuditEntry.count().where(
            (AuditEntry.object_id == user_id) & (AuditEntry.action == "user.citizen_linked")
        )
        assert links == 1
        assert await User.count().where(User.phone == phone) == 1
