"""`remotecase run --workers 2`: two server processes and a third writer (this test process, as the
scheduler would be) share one database. Every check-in is answered once, and the audit chain that all of
them append to stays one unbroken chain."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections import Counter

import httpx
import pytest

from backend.audit import services as audit
from backend.core.context import Actor
from backend.web.workers import balanced_workers_supported
from tests.support.api import bearer, demo_staff
from tests.support.live_server import live_server
from tests.support.supervision import SELFIE, acknowledge, enrol_and_place, open_window

PERSONS, WINDOWS = 3, 8


async def test_two_server_workers_and_another_writer_share_the_database(demo_logins):
    with live_server({"WEB_WORKERS": "2"}) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            officer = await demo_staff(http, demo_logins, "officer")
            cases = []
            for _ in range(PERSONS):
                case = await enrol_and_place(http, officer)
                await acknowledge(http, case["phone"])
                case["windows"] = [
                    (await open_window(http, officer, case["measure"]["id"]))["id"] for _ in range(WINDOWS)
                ]
                cases.append(case)

        async def check_in(case: dict, window_id: str) -> dict:
            # A connection per submission, as phones make them: the two workers take turns accepting.
            async with httpx.AsyncClient(base_url=url, timeout=60) as phone:
                from backend.core.clock import utcnow

                now = utcnow().isoformat()
                response = await phone.post(
                    "/m/v1/checkins",
                    json={
                        "captured_at": now,
                        "window_id": window_id,
                        "selfie_jpeg_base64": SELFIE,
                        "location": {
                            "lat": 30.27,
                            "lon": 120.15,
                            "accuracy_m": 12.0,
                            "t": now,
                        },
                    },
                    headers=bearer(case["phone"]),
                )
            assert response.status_code == 201, response.text
            return response.json()

        actor = Actor(id="test-writer", role="system")

        async def all_windows(case: dict) -> list[dict]:
            return await asyncio.gather(*(check_in(case, window) for window in case["windows"]))

        answers, _ = await asyncio.gather(
            asyncio.gather(*(all_windows(case) for case in cases)),
            asyncio.gather(*(audit.record(actor, "test.third_writer", "test", i) for i in range(20))),
        )

    for case, receipts in zip(cases, answers, strict=True):
        assert [r["outcome"] for r in receipts] == ["doubtful"] * WINDOWS, receipts  # no face enrolled
        assert [r["window_id"] for r in receipts] == case["windows"]
    result = await audit.verify_chain()
    assert result.ok, result


def _connections_per_process(port: int) -> Counter:
    """Server-side ESTABLISHED sockets on `port`, counted per owning process (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    counts: Counter = Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    counts[int(pid)] += 1
        except OSError:  # a process that ended meanwhile, or one that is not ours to read
            continue
    return counts


@pytest.mark.skipif(not balanced_workers_supported(), reason="connection balancing needs Linux SO_REUSEPORT")
def test_connections_opened_together_are_spread_over_the_workers():
    """Phones that connect at the same moment are served by both processes, not all by whichever woke
    first (uvicorn's shared socket split 50 such connections 36/14 and the busier process set the pace)."""
    with live_server({"WEB_WORKERS": "2"}) as url:
        port = int(url.rsplit(":", 1)[1])
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for client in clients:
                client.sendall(b"GET /health HTTP/1.1\r\nHost: phone\r\n\r\n")
            for client in clients:
                assert client.recv(64).startswith(b"HTTP/1.1 200"), "every connection is answered"
            counts = _connections_per_process(port)
        finally:
            for client in clients:
                client.close()
    assert sum(counts.values()) == 40, counts
    assert len(counts) == 2, f"one process took every connection: {counts}"
    assert min(counts.values()) >= 8, f"connections were not spread: {counts}"


@pytest.mark.skipif(not balanced_workers_supported(), reason="connection balancing needs Linux SO_REUSEPORT")
def test_workers_refuse_a_port_that_another_program_holds():
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "backend.cli", "run", "--workers", "2", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
