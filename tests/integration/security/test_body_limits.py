"""Authentication comes before the body, and a body is read only up to its route's own limit.

A caller without a token is refused before the server reads its body, keyed or not (four 150 MB keyed
bodies once took the server up by 737 MB); a keyed body is read only up to the route's limit and refused
with 413 the moment it passes it; and a keyed check-in with a selfie the schema allows is no longer
refused by a smaller cap of the idempotency layer. A token works only on the channel its session was
opened on.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import uuid

import pytest

from backend.accounts.tables import AuthSession
from tests.support.api import bearer, demo_staff, phone_login, random_phone
from tests.support.live_server import live_server
from tests.support.supervision import SELFIE, acknowledge, checkin_body, enrol_and_place, open_window

MB = 1024 * 1024
SUPERVISEES = "/api/v1/supervisees"


class CountingBody:
    """A request body that records how much of it the server pulled."""

    def __init__(self, size: int, chunk: int = 64 * 1024) -> None:
        self.size, self.chunk, self.pulled = size, chunk, 0

    async def __aiter__(self):
        while self.pulled < self.size:
            self.pulled += self.chunk
            yield b" " * self.chunk


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
async def test_a_caller_without_a_token_is_refused_before_its_body_is_read(client, keyed):
    body = CountingBody(50 * MB)
    headers = {"Content-Type": "application/json", "Content-Length": str(body.size)}
    if keyed:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    response = await client.post(SUPERVISEES, content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"
    assert body.pulled == 0, f"the server read {body.pulled} bytes of a tokenless caller's body"


async def test_a_keyed_body_over_the_routes_limit_is_413_before_it_is_read(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    body = CountingBody(11 * MB)  # Litestar's default limit is 10 MB
    headers = bearer(officer) | {
        "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json",
        "Content-Length": str(body.size),
    }
    response = await client.post(SUPERVISEES, content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"
    assert body.pulled == 0


async def test_a_keyed_body_without_a_length_stops_being_read_at_the_limit(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    body = CountingBody(50 * MB)
    headers = bearer(officer) | {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
    response = await client.post(SUPERVISEES, content=body, headers=headers)  # chunked: no length declared
    assert response.status_code == 413
    assert body.pulled <= 11 * MB, f"the server read {body.pulled // MB} MB of a body past its 10 MB limit"


async def test_a_keyed_check_in_with_a_selfie_the_schema_allows_is_accepted(client, demo_logins):
    """The idempotency layer capped keyed bodies at 1 MiB; a selfie may be 1.4 million base64 characters."""
    officer = await demo_staff(client, demo_logins, "officer")
    case = await enrol_and_place(client, officer)
    await acknowledge(client, case["phone"])
    window = await open_window(client, officer, case["measure"]["id"])
    body = checkin_body(window_id=window["id"], selfie_jpeg_base64=SELFIE + "A" * 1_300_000)
    headers = bearer(case["phone"]) | {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/m/v1/checkins", json=body, headers=headers)
    assert first.status_code == 201, first.text
    retry = await client.post("/m/v1/checkins", json=body, headers=headers)
    assert retry.status_code == 201 and retry.headers.get("idempotent-replayed") == "true"
    assert retry.json() == first.json()


async def test_a_token_works_only_on_the_channel_its_session_was_opened_on(client, demo_logins):
    officer = await demo_staff(client, demo_logins, "officer")
    phone = await phone_login(client, random_phone())
    assert (await client.get("/api/v1/me", headers=bearer(officer))).status_code == 200
    await AuthSession.update({AuthSession.channel: "mobile"}).where(AuthSession.id == officer["session_id"])
    await AuthSession.update({AuthSession.channel: "console"}).where(AuthSession.id == phone["session_id"])
    assert (await client.get("/api/v1/me", headers=bearer(officer))).status_code in (401, 403)
    assert (await client.get("/m/v1/me", headers=bearer(phone))).status_code in (401, 403)


def _server_pid(port: int) -> int:
    """The process listening on `port` (one server worker: the server itself)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    raise AssertionError(f"nothing listens on {port}")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _post_until_answered(port: int, headers: dict, size: int, answers: list) -> None:
    """POST a `size`-byte body, stopping the moment the server answers; keeps the status line."""
    head = f"POST {SUPERVISEES} HTTP/1.1\r\nHost: test\r\nContent-Length: {size}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    chunk, sent, received = b" " * MB, 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        deadline = time.monotonic() + 60  # a guard against a hang, not a measurement
        while b"\r\n" not in received and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock] if sent < size else [], [], 1)
            if readable:
                try:
                    data = sock.recv(65536)
                except OSError as exc:  # kept for the assertion's message
                    answers.append(f"{exc!r} after {sent} bytes sent, {received!r} received")
                    return
                if not data:
                    break
                received += data
            elif writable:
                with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                    sent += sock.send(chunk[: size - sent])
    answers.append(received.split(b"\r\n", 1)[0].decode(errors="replace"))


def test_bodies_of_tokenless_callers_do_not_grow_the_server():
    """Against a real server: four 50 MB bodies at once without a token, with and without a key."""
    with live_server() as url:
        port = int(url.rsplit(":", 1)[1])
        pid = _server_pid(port)
        before = _rss_mb(pid)
        answers: list[str] = []
        threads = [
            threading.Thread(
                target=_post_until_answered,
                args=(port, {"Content-Type": "application/json"} | keyed, 50 * MB, answers),
            )
            for keyed in ({}, {"Idempotency-Key": str(uuid.uuid4())}) * 2
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        grown = _rss_mb(pid) - before
    assert answers == ["HTTP/1.1 401 Unauthorized"] * 4, answers
    assert grown < 50, f"the server grew by {grown:.0f} MB for bodies it refused"
