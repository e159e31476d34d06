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

The turn is where a domain's creates queue on a host, and a turn left idle for a moment is a
moment slapd's one writer may wait: a worker that finds the lock held waits on the domain's
wake pipe (a FIFO beside the lock file, `wake-...`), into which each holder writes a byte as
it lets go, rather than trying again every so often (measured with `bench.compare`, 9
trials, 4 workers, against tries every 0.2-1 ms: 5 clients 0.879 of raw adds instead of
0.851 and a p95 1.35 times raw's instead of 1.49; 16 clients 0.867 instead of 0.864). The
pipe only says when to try: a holder that died without writing is noticed within FALLBACK
(where no pipe can be made, waiters try again every POLL). The pipes stay too, one per domain
whose turn a worker of this host has waited for.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import select
import stat
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

WAIT = 2.0        # seconds a reservation waits for its turn before it goes without
FALLBACK = 0.01   # seconds between tries when no holder wakes the waiters
POLL = 0.001      # seconds between tries where no wake pipe can be made
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
        wake = self._directory / f"wake-{name}"
        try:
            fd = self._open(name)
            had = fd is not None and _flock(fd, wake, deadline)
            try:
                yield Turn(fd if had else None)
            finally:
                if fd is not None:
                    os.close(fd)  # the lock goes with the descriptor
                if had:
                    _wake(wake)
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


def _flock(fd: int, wake: Path, deadline: float) -> bool:
    """Lock `fd` before `deadline`, trying again whenever a holder writes to the `wake` pipe
    (or FALLBACK passed); whether it was had."""
    if _try_flock(fd):
        return True
    pipe = _open_wake(wake)
    try:
        while True:  # the pipe is open before each try: no release can go unnoticed
            locked = _try_flock(fd)
            if locked is not False:
                return bool(locked)
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if pipe is None:
                time.sleep(min(left, POLL))
                continue
            waiting = select.poll()  # poll, not select: any descriptor number will do
            waiting.register(pipe, select.POLLIN)
            waiting.poll(min(left, FALLBACK) * 1000)
            with contextlib.suppress(BlockingIOError):
                os.read(pipe, 64)  # what was written is spent: each holder writes anew
    finally:
        if pipe is not None:
            os.close(pipe)


def _try_flock(fd: int) -> bool | None:
    """Lock `fd` if nobody holds it: True; False when another does; None when the lock
    cannot be used."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return None


def _open_wake(wake: Path) -> int | None:
    """The wake pipe, made if missing, open for reading and writing: with a writer always
    open (this one), it is readable only when a byte waits, never at end of file. None
    when it cannot be made or opened, or is not a pipe (a file restored in its place would
    always be readable): the caller polls instead."""
    for _ in range(2):
        try:
            pipe = os.open(wake, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW)
        except FileNotFoundError:
            try:
                os.mkfifo(wake, 0o600)
            except FileExistsError:
                pass  # another worker made it meanwhile
            except OSError:  # no space, no FIFOs on this file system, ...
                return None
            continue
        except OSError:
            return None
        if stat.S_ISFIFO(os.fstat(pipe).st_mode):
            return pipe
        os.close(pipe)
        return None
    return None


def _wake(wake: Path) -> None:
    """Tell whoever waits on the pipe that the turn is free; nobody waits: nothing to do."""
    try:
        pipe = os.open(wake, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:  # ENXIO: no reader; ENOENT: no pipe yet; either way nobody waits
        return
    try:
        # A full pipe wakes them already; EPIPE: the last waiter left since the open. The
        # turn has been written with: nothing here may fail the request.
        with contextlib.suppress(OSError):
            os.write(pipe, b"\0")
    finally:
        os.close(pipe)
