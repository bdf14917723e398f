"""One writer at a time per index directory: an OS file lock held for a whole ingest.

``fcntl.flock`` locks belong to an open file, so two processes, or two threads of one
process that each open the lock file (the web interface's upload path and a ``rag ingest``
in a shell), exclude each other. The kernel drops the lock when its holder dies, even by
SIGKILL: a killed ingest never leaves the index locked. The lock file holds the holder's
pid and start time, for the "busy" message only.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import IndexBusyError

LOCK_FILE = "LOCK"
POLL_SECONDS = 0.1  # how often a waiting writer tries again


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


@contextmanager
def writer_lock(index_dir: Path, wait: float | None = 0.0,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's writer lock for the ``with`` body.

    ``wait``: seconds to wait for another writer to finish (0: fail at once, None: forever).
    Raises ``IndexBusyError`` when the lock is still held after that. ``on_wait`` is told
    once, with the holder, that this writer is waiting."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, index_dir, wait, on_wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, index_dir: Path, wait: float | None, on_wait: Callable[[str], None] | None) -> None:
    deadline = None if wait is None else time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        if deadline is not None and time.monotonic() >= deadline:
            raise IndexBusyError(f"index {index_dir} is being written by another ingest{_holder(fd)}",
                                 "wait for it to finish, or pass --wait SECONDS to queue behind it")
        if on_wait is not None and not told:
            on_wait(f"index {index_dir} is being written by another ingest{_holder(fd)}; waiting")
            told = True
        time.sleep(POLL_SECONDS)
