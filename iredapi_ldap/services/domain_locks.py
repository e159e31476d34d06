"""Turns per domain among the workers of one host, for the quota sum's compare-and-swap.

iRedMail stores a domain's quota sum (`domainCurrentQuotaSize`) as text, which slapd cannot
increment: a reservation replaces it under an assertion that it still holds the value read
(services/reservations.py). Workers of one host creating users in one domain at once then
mostly lose to each other (measured with `make bench`, 4 workers and 5 clients: 1.5 lost
tries per create, each a failed write and a read again). With a lock per domain they take
turns instead. Exactness never rests on the lock (the assertion stays, and other hosts race
as before), so a lock not had within WAIT seconds is done without.

A lock is `flock` on the domain's own file in DATA_DIR/locks (named by a hash of the domain's
name), opened for the turn and closed after it (a descriptor inherited from gunicorn's
master would be one lock for all workers), plus a thread lock for the threads of one
process. No two domains share a lock: when they shared one of a few files by their name's
hash, a normal admin allowed to create domains could pick names that share the file of
another admin's domain and hold up its creates with its own. The files stay, one per domain
whose quota sum this host has changed, each holding at most a short note its last holder
left for the next (`Turn.remember`: the quota sum it wrote, which saves the next holder
reading it afresh). Removing them while the API runs would let two workers hold a domain's
turn at once (still exact, only slower).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

WAIT = 2.0        # seconds a reservation waits for its turn before it goes without
# Seconds before the second try of a lock another process holds, doubling up to LAST_POLL.
# The turn is where a domain's creates queue on a host: a late try leaves it idle (with 5 ms
# at most, `make bench --only creates --quick` gave 5 clients 0.72-0.80 of raw adds and a
# p95 1.8x theirs; with 1 ms, 0.82-0.83 and 1.5x). A try costs microseconds.
FIRST_POLL = 0.0002
LAST_POLL = 0.001
NOTE_SIZE = 128  # bytes of a Turn's note


class DomainLocks:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        # The domains' thread locks, kept only while a thread holds or waits for one.
        self._threads: weakref.WeakValueDictionary[str, _ThreadLock] = \
            weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def turn(self, domain: str) -> Iterator[Turn]:
        """Hold the domain's lock on this host while the block runs; yields a Turn, true
        when it was had (false: WAIT passed, or the lock files cannot be used)."""
        name = hashlib.sha256(domain.lower().encode()).hexdigest()[:32]
        deadline = time.monotonic() + WAIT
        with self._guard:
            thread_lock = self._threads.get(name)
            if thread_lock is None:
                thread_lock = self._threads[name] = _ThreadLock()
        if not thread_lock.acquire(timeout=WAIT):
            yield Turn(None)
            return
        try:
            fd = self._open(name)
            try:
                yield Turn(fd if fd is not None and _flock(fd, deadline) else None)
            finally:
                if fd is not None:
                    os.close(fd)  # the lock goes with the descriptor
        finally:
            thread_lock.release()

    def _open(self, name: str) -> int | None:
        try:
            self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            return os.open(self._directory / f"domain-{name}", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None


class Turn:
    """A domain's turn, true when it was had. Its holder may leave a note for the next
    holder on this host (in the lock file: NOTE_SIZE bytes at most, not synced): a hint,
    such as the value a compare-and-swap just wrote, that saves the next one a read. A
    note is never the truth: whoever acts on it still asserts it."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def __bool__(self) -> bool:
        return self._fd is not None

    def recall(self) -> str | None:
        """The note the last holder left, None when there is none (or the turn was not
        had)."""
        if self._fd is None:
            return None
        try:
            return os.pread(self._fd, NOTE_SIZE, 0).decode("ascii") or None
        except (OSError, UnicodeDecodeError):
            return None

    def remember(self, note: str | None) -> None:
        """Leave `note` for the next holder (None: leave none)."""
        if self._fd is None:
            return
        data = (note or "").encode("ascii")[:NOTE_SIZE]
        with contextlib.suppress(OSError):  # a lost note only costs the next holder a read
            os.pwrite(self._fd, data, 0)
            os.ftruncate(self._fd, len(data))


class _ThreadLock:
    """A thread lock that a WeakValueDictionary can hold (threading.Lock cannot be)."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, timeout: float) -> bool:
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()


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
