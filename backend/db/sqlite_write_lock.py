"""The write lock between this service's processes: an flock beside the database, waited for in a thread."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's own lock and the back-off remain
    fcntl = None


class ProcessWriteLock:
    """The write lock between processes (server workers, the scheduler, the CLI): an flock on a file beside
    the database. Waiting happens in a worker thread, so the loop goes on, and the lock passes on the
    moment it is released instead of at the next poll of SQLite's busy handler."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}.writelock"
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if fcntl is None:
            return None
        if self._pid != os.getpid():  # a forked worker opens its own descriptor
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    async def acquire(self, wait_s: float) -> None:
        fd = self._file()
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        guard, state = threading.Lock(), {"abandoned": False, "held": False}

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if state["abandoned"]:  # the waiter gave up meanwhile: pass the lock straight on
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:
                    state["held"] = True

        waiting = asyncio.get_running_loop().run_in_executor(None, wait)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), wait_s)
        except BaseException as exc:
            with guard:
                state["abandoned"] = True
                if state["held"]:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            if isinstance(exc, TimeoutError):
                raise sqlite3.OperationalError("database is locked") from None
            raise

    def release(self) -> None:
        fd = self._file()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
