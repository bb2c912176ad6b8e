"""The audit chain: every state change leaves a linked row; tampering is found and named."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from backend.audit import services as audit
from backend.audit.tables import AuditEntry
from backend.core.context import Actor
from tests.support.api import bearer, demo_staff, random_phone


async def test_state_changes_write_audit_rows_with_actor_and_request_id(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    me = (await client.get("/api/v1/me", headers=bearer(officer))).json()
    response = await client.post(
        "/api/v1/supervisees",
        json={"phone": random_phone(), "display_name": "Audited", "region_code": "330106"},
        headers=bearer(officer) | {"X-Request-ID": "audit-test-0001"},
    )
    row = await AuditEntry.objects().where(AuditEntry.object_id == response.json()["id"]).first()
    assert row.action == "user.supervisee_registered"
    assert row.actor_id == me["id"] and row.actor_role == "officer"
    assert row.request_id == "audit-test-0001"
    assert row.at.tzinfo is not None and row.at.utcoffset().total_seconds() == 0
    assert len(row.change_digest) == 64


async def test_concurrent_appends_keep_one_unbroken_chain():
    actor = Actor(id="test", role="system")
    await asyncio.gather(*(audit.record(actor, "test.concurrent", "test", i) for i in range(25)))
    result = await audit.verify_chain()
    assert result.ok, result


def _cli_verify() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


async def test_editing_a_row_in_the_database_is_detected_and_named():
    assert (await audit.verify_chain()).ok
    victim = await AuditEntry.objects().order_by(AuditEntry.seq).offset(3).first()
    original = victim.object_id
    await AuditEntry.update({AuditEntry.object_id: "someone-else"}).where(AuditEntry.seq == victim.seq)
    try:
        result = await audit.verify_chain()
        assert not result.ok
        assert result.first_broken_seq == victim.seq
        cli = await asyncio.to_thread(_cli_verify)
        assert cli.returncode == 1
        assert f"broken at row {victim.seq}" in cli.stderr
    finally:
        await AuditEntry.update({AuditEntry.object_id: original}).where(AuditEntry.seq == victim.seq)
    assert (await audit.verify_chain()).ok
    cli = await asyncio.to_thread(_cli_verify)
    assert cli.returncode == 0, cli.stderr


async def test_deleting_a_row_is_detected():
    victim = await AuditEntry.objects().order_by(AuditEntry.seq).offset(5).first()
    saved = victim.to_dict()
    await AuditEntry.delete().where(AuditEntry.seq == victim.seq)
    try:
        result = await audit.verify_chain()
        assert not result.ok and result.first_broken_seq == victim.seq
        assert "missing" in result.reason
    finally:
        await AuditEntry.insert(AuditEntry(**saved))
    assert (await audit.verify_chain()).ok


async def test_who_may_read_the_audit_trail(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    prosecutor = await demo_staff(client, demo_logins, "prosecutor")
    admin = await demo_staff(client, demo_logins, "admin")
    person = await client.post(
        "/api/v1/supervisees",
        json={"phone": random_phone(), "display_name": "Watched", "region_code": "330106"},
        headers=bearer(officer),
    )
    assert (await client.get("/api/v1/audit", headers=bearer(officer))).status_code == 403
    seen = await client.get(
        "/api/v1/audit", params={"object_id": person.json()["id"]}, headers=bearer(prosecutor)
    )
    assert seen.status_code == 200
    assert [r["action"] for r in seen.json()["items"]] == ["user.supervisee_registered"]
    assert (await client.get("/api/v1/audit/verify", headers=bearer(prosecutor))).status_code == 403
    verified = await client.get("/api/v1/audit/verify", headers=bearer(admin))
    assert verified.status_code == 200 and verified.json()["ok"] is True
