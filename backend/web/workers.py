"""`remotecase run --workers N` on Linux: N server processes, each with its own listening socket.

uvicorn's own workers share one socket, and whichever process wakes first accepts every connection that is
waiting: 50 phones connecting together were split 36/14, and the busier process set everyone's latency
while the other idled. Here each worker binds the port with SO_REUSEPORT, so the kernel spreads new
connections over the workers by a hash of their addresses. Elsewhere (no balancing SO_REUSEPORT) the
caller falls back to uvicorn's workers.

The parent only supervises: it restarts a worker that dies, stops when one fails at startup (a broken
configuration would fail the same way again), and passes SIGINT/SIGTERM on for a graceful shutdown.

Every server process, one or many, runs `Server`: on SIGTERM it first closes the live-alerts sockets
with 1001 (going away), then lets requests in flight finish for at most GRACEFUL_SHUTDOWN_S before
cancelling them. uvicorn alone waits without bound, so one stuck connection kept a stopped server up.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading

import uvicorn
from uvicorn.config import STARTUP_FAILURE  # the exit code of a worker that could not start serving

log = logging.getLogger("remotecase.workers")

GRACEFUL_SHUTDOWN_S = 10  # requests in flight when SIGTERM comes get this long, then they are cancelled
STOP_GRACE_S = 30  # the parent's wait for a worker, beyond its own graceful shutdown


class Server(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        from backend.supervision.handling.live.controllers import close_live_sockets

        await close_live_sockets()
        await super().shutdown(sockets)


def server_config(app, **options) -> uvicorn.Config:
    return uvicorn.Config(app, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, **options)


def serve(app, options: dict) -> int:
    """One server process in the foreground, until SIGINT/SIGTERM; returns the exit status."""
    server = Server(server_config(app, **options))
    server.run()
    return 0 if server.started else STARTUP_FAILURE


def serve_uvicorn_workers(workers: int, options: dict) -> int:
    """uvicorn's own workers (one shared socket), where SO_REUSEPORT does not balance, each a `Server`."""
    from uvicorn.supervisors import Multiprocess

    config = server_config("backend.app:create_app", factory=True, workers=workers, **options)
    sock = config.bind_socket()
    Multiprocess(config, target=Server(config).run, sockets=[sock]).run()
    return 0


def balanced_workers_supported() -> bool:
    """Linux balances connections over the sockets of a SO_REUSEPORT group; macOS and BSD do not."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, listen: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, options: dict) -> None:
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        print(f"worker could not listen on {host}:{port}: {exc}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILURE)
    config = server_config("backend.app:create_app", factory=True, host=host, port=port, **options)
    server = Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run_workers(host: str, port: int, workers: int, options: dict) -> int:
    """Serve with `workers` processes until SIGINT/SIGTERM; returns the exit status."""
    # Fail here, not in every worker, when the port is taken by something outside the group. The probe
    # is bound but never listens, so the kernel hands it no connections.
    try:
        listening_socket(host, port, listen=False).close()
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        return 1
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    failed = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(host, port, options), daemon=False)
        process.start()
        return process

    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("worker %s failed to start; stopping", process.pid)
                    failed = True
                    stop.set()
                    break
                log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in processes:
            process.join(STOP_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0
