"""SQLite serves one process: a second `serve` on the same file is refused, not allowed
to race the first. The lock is an advisory file lock the OS drops if the holder dies; the
holder removes the lock file when it stops, so a stopped bot leaves no `.db.lock` behind."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url


class AlreadyRunning(Exception):
    pass


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve()


class SingleProcessLock:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> SingleProcessLock:
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise AlreadyRunning(
                    f"another escalation-bot serve (pid {holder}) is already using {self.path.with_suffix('')}; "
                    "SQLite supports one process at a time. Stop it, or use PostgreSQL "
                    "(DATABASE_URL=postgresql+asyncpg://…) to run several replicas."
                ) from None
            if self._still_at_path(fd):
                break
            # The holder before us removed the file between our open and our lock: the lock
            # we hold is on a file nobody else can find. Take the one at the path instead.
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def _still_at_path(self, fd: int) -> bool:
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) == (here.st_dev, here.st_ino)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            # Removed while still locked, so no one can lock this file and then lose it to us.
            self.path.unlink(missing_ok=True)
            os.close(self._fd)  # closing releases the lock
            self._fd = None
