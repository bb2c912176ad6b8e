"""The audit chain: every state change leaves a linked row; tampering is found and named."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from backend.audit import services as audit
from backend.audit.tables import AuditEntry, AuditHead
from backend.core.clock import utcnow
from backend.core.context import Actor
from backend.db import sql
from backend.db.engine import is_sqlite, write_tx
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


async def test_a_rolled_back_change_leaves_no_row_and_no_gap():
    actor = Actor(id="test", role="system")
    with pytest.raises(RuntimeError):
        async with write_tx():
            await audit.record(actor, "test.rolled_back", "test", "gone")
            raise RuntimeError("the change fails after its audit row was written")
    await audit.record(actor, "test.after_rollback", "test", "kept")
    assert not await AuditEntry.exists().where(AuditEntry.action == "test.rolled_back")
    assert not await AuditEntry.exists().where(AuditEntry.seq < 1)
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    last = await AuditEntry.select().order_by(AuditEntry.seq, ascending=False).first()
    assert last["action"] == "test.after_rollback" and last["seq"] == head["last_seq"]
    assert (await audit.verify_chain()).ok


async def test_an_open_transaction_does_not_hold_up_other_writers_audit_rows():
    """PostgreSQL: a row's place in the chain is taken as its transaction commits, so a writer that has
    recorded its change but not committed yet (waiting on a slow step) keeps nobody else waiting."""
    if is_sqlite():
        pytest.skip("SQLite write transactions are exclusive by design")
    actor = Actor(id="test", role="system")
    recorded, finish = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with write_tx():
            await audit.record(actor, "test.slow_writer", "test", "slow")
            recorded.set()
            await finish.wait()

    slow = asyncio.create_task(slow_writer())
    await asyncio.wait_for(recorded.wait(), 10)
    try:
        # Under a lock held until the slow writer commits, this would wait for it and time out.
        await asyncio.wait_for(audit.record(actor, "test.quick_writer", "test", "quick"), 5)
    finally:
        finish.set()
        await slow
    rows = await AuditEntry.select(AuditEntry.seq, AuditEntry.action).where(
        AuditEntry.action.is_in(["test.slow_writer", "test.quick_writer"])
    )
    order = [r["action"] for r in sorted(rows, key=lambda r: r["seq"])]
    assert order == ["test.quick_writer", "test.slow_writer"]  # the chain is in commit order
    assert (await audit.verify_chain()).ok


async def test_rows_hashed_the_first_way_still_verify_and_their_tampering_is_found():
    """Databases written before body_hash existed keep their rows; new rows chain on after them."""
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    seq, prev = head["last_seq"] + 1, head["last_hash"]
    fields = {
        "actor_id": "legacy",
        "actor_role": "system",
        "action": "test.legacy",
        "object_type": "test",
        "object_id": "old-row",
        "agency_id": None,
        "request_id": None,
        "change_digest": audit.digest_of({"before": "body_hash"}),
    }
    at = utcnow()
    row_hash = audit._first_row_hash(prev, seq, at, fields)
    async with write_tx():
        await sql.execute("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1", seq, row_hash)
        await AuditEntry.insert(AuditEntry(seq=seq, at=at, prev_hash=prev, row_hash=row_hash, **fields))
    await audit.record(Actor(id="test", role="system"), "test.after_legacy", "test", "new-row")
    assert (await audit.verify_chain()).ok
    await AuditEntry.update({AuditEntry.object_id: "forged"}).where(AuditEntry.seq == seq)
    try:
        result = await audit.verify_chain()
        assert not result.ok and result.first_broken_seq == seq
    finally:
        await AuditEntry.update({AuditEntry.object_id: "old-row"}).where(AuditEntry.seq == seq)
    assert (await audit.verify_chain()).ok


async def test_verifying_a_live_chain_while_rows_are_appended_finds_it_whole():
    actor = Actor(id="test", role="system")
    for i in range(10):
        await audit.record(actor, "test.before_verify", "test", i)

    async def append() -> None:
        for i in range(30):
            await audit.record(actor, "test.during_verify", "test", i)

    # Small pages: the walk reads many times while the appends commit in between.
    results = await asyncio.gather(*(audit.verify_chain(batch=3) for _ in range(3)), append())
    assert all(result.ok for result in results[:3]), results


async def test_a_row_slipped_in_beyond_the_head_is_found():
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    last = await AuditEntry.objects().where(AuditEntry.seq == head["last_seq"]).first()
    forged = last.to_dict() | {"seq": head["last_seq"] + 1, "prev_hash": last.row_hash, "action": "forged"}
    await AuditEntry.insert(AuditEntry(**forged))
    try:
        result = await audit.verify_chain()
        assert not result.ok and result.first_broken_seq == head["last_seq"] + 1
        assert "beyond" in result.reason
    finally:
        await AuditEntry.delete().where(AuditEntry.seq == head["last_seq"] + 1)
    assert (await audit.verify_chain()).ok


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
