"""Run `remotecase run` as a real process on a free port, against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(
    extra_env: dict | None = None,
    startup_seconds: float = 60,
    output: list[str] | None = None,
    extra_args: list[str] | None = None,
):
    """Yields the server's URL. With `output`, every line the server prints (stdout and stderr) is
    appended to it as it comes, complete once the block has left (the server has stopped). `extra_args`
    go on the `remotecase run` command line (`--with-scheduler`)."""
    port = free_port()
    env = os.environ.copy() | (extra_env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "run", "--port", str(port), *(extra_args or [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    reader = None
    if output is not None:  # drained as it runs: a full pipe would block the server
        reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
        reader.start()
    deadline = time.monotonic() + startup_seconds
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                printed = "".join(output) if output is not None else process.stdout.read()
                raise RuntimeError(f"server did not start:\n{printed}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if reader is not None:
            reader.join(15)
