"""`remotecase run` stops on SIGTERM even while consoles hold live-alerts sockets, and says goodbye to them.

A real server process: uvicorn's graceful shutdown waits, without a bound, for every connection's task,
so one live socket or request that never finished kept a stopped server up ("Waiting for background
tasks"). Open live sockets now close with 1001 (going away) and requests in flight get a bounded grace.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket as sockets
import subprocess
import sys
import threading
import time

import httpx
import pytest
import websockets

from tests.support.api import bearer, demo_staff
from tests.support.live_server import free_port

# How long a stopped server may take before the test gives up on it: a liveness bound, far above the
# server's own graceful timeout, not a measure of speed.
EXIT_BOUND_S = 60


def _start(env: dict | None = None) -> tuple[subprocess.Popen, str, list[str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "run", "--port", str(port)],
        env=os.environ.copy() | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url, output
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("server did not start:\n" + "".join(output))
        time.sleep(0.2)


@pytest.fixture
def server():
    process, url, output = _start()
    yield process, url, output
    if process.poll() is None:
        process.kill()
        process.wait()


async def _open_socket(url: str, demo_logins: dict):
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        officer = await demo_staff(http, demo_logins, "officer")
        issued = await http.post("/api/v1/alerts/live/tickets", headers=bearer(officer))
        assert issued.status_code == 201, issued.text
    ticket = issued.json()["ticket"]
    socket = await websockets.connect(url.replace("http", "ws", 1) + f"/api/v1/alerts/live?ticket={ticket}")
    assert (await asyncio.wait_for(socket.recv(), 10)) == '{"type":"ready"}'
    return socket


async def _stopped(process: subprocess.Popen, output: list[str]) -> None:
    """The process ended on its own after SIGTERM: uvicorn exits 0, or re-raises the signal it caught."""
    try:
        code = await asyncio.to_thread(process.wait, EXIT_BOUND_S)
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not stop on SIGTERM:\n" + "".join(output))
    assert code in (0, -signal.SIGTERM), "".join(output)


async def test_sigterm_closes_open_live_sockets_with_going_away_and_the_server_exits(server, demo_logins):
    process, url, output = server
    socket = await _open_socket(url, demo_logins)
    process.send_signal(signal.SIGTERM)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001, closed.value
    await _stopped(process, output)


async def test_sigterm_stops_a_server_whose_console_has_come_and_gone(server, demo_logins):
    process, url, output = server
    socket = await _open_socket(url, demo_logins)
    await socket.close()
    process.send_signal(signal.SIGTERM)
    await _stopped(process, output)


async def test_sigterm_stops_the_server_while_a_request_hangs_half_sent(server):
    """A client that sent half a body and went quiet: the request never finishes on its own."""
    process, url, output = server
    port = int(url.rsplit(":", 1)[1])
    with sockets.create_connection(("127.0.0.1", port)) as half_sent:
        half_sent.sendall(
            b"POST /m/v1/auth/code HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        await asyncio.sleep(0.5)  # the request has reached the handler, which waits for the rest
        process.send_signal(signal.SIGTERM)
        await _stopped(process, output)


async def test_head_health_answers_200_without_a_body(server):
    _, url, _ = server
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.head("/health")
    assert answer.status_code == 200
    assert answer.content == b""
