"""Turns per domain among the workers of one host, for the quota sum's compare-and-swap.

iRedMail stores a domain's quota sum (`domainCurrentQuotaSize`) as text, which slapd cannot
increment: a reservation replaces it under an assertion that it still holds the value read
(services/reservations.py). Workers of one host creating users in one domain at once then
mostly lose to each other (measured with `make bench`, 4 workers and 5 clients: 1.5 lost
tries per create, each a failed write and a read again). With a lock per domain they take
turns instead. Exactness never rests on the lock (the assertion stays, and other hosts race
as before), so a lock not had within WAIT seconds is done without.

A lock is `flock` on one of STRIPES files in DATA_DIR/locks (domains share a stripe by their
name's hash, so the files stay few), opened by each process after it forked (a descriptor
inherited from gunicorn's master would be one lock for all workers), plus a thread lock
for the threads of one process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

STRIPES = 64
WAIT = 2.0        # seconds a reservation waits for its turn before it goes without
# Seconds before the second try of a lock another process holds, doubling up to LAST_POLL.
# The turn is where a domain's creates queue on a host: a late try leaves it idle (with 5 ms
# at most, `make bench --only creates --quick` gave 5 clients 0.72-0.80 of raw adds and a
# p95 1.8x theirs; with 1 ms, 0.82-0.83 and 1.5x). A try costs microseconds.
FIRST_POLL = 0.0002
LAST_POLL = 0.001


class DomainLocks:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._threads = [threading.Lock() for _ in range(STRIPES)]
        self._files: dict[int, int] = {}
        self._pid = -1
        self._opening = threading.Lock()

    @contextlib.contextmanager
    def turn(self, domain: str) -> Iterator[bool]:
        """Hold the domain's lock on this host while the block runs; yields whether it
        was had (False: WAIT passed, or the lock files cannot be used)."""
        stripe = zlib.crc32(domain.lower().encode()) % STRIPES
        deadline = time.monotonic() + WAIT
        if not self._threads[stripe].acquire(timeout=WAIT):
            yield False
            return
        try:
            fd = self._file(stripe)
            had = fd is not None and _flock(fd, deadline)
            try:
                yield had
            finally:
                if had and fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads[stripe].release()

    def _file(self, stripe: int) -> int | None:
        with self._opening:
            if self._pid != os.getpid():  # forked: the parent's descriptors are shared
                self._files, self._pid = {}, os.getpid()
            if stripe not in self._files:
                try:
                    self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                    self._files[stripe] = os.open(self._directory / f"domain-{stripe:02d}",
                                                  os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:
                    return None
            return self._files[stripe]


def _flock(fd: int, deadline: float) -> bool:
    pause = FIRST_POLL
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, LAST_POLL)
        except OSError:
            return False
