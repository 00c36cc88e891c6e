"""An exclusive lock on an index directory, so two ingests never write the same index."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = ".lock"


class IndexLocked(Exception):
    """Another process holds the lock; the message names it."""


class IndexLock:
    """``with IndexLock(dir):`` holds an flock on ``dir/.lock``; the kernel releases it if the process dies."""

    def __init__(self, index_dir: Path):
        self.path = index_dir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> IndexLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise IndexLocked(f"another ingest (pid {holder}) is writing the index at {self.path.parent}; "
                              "wait for it to finish") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
