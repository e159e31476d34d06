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

A turn also passes on the quota sum: its holder notes in the lock file the value its write
left and the entryCSN the write gave the domain (`Turn.note`), and the next holder of the
same domain's turn asserts on that value (`Turn.known`) instead of reading the domain again,
when the note is at least as new as the domain entry its request read: one read fewer per
create (services/reservations.py). Exactness rests on the assertion alone: a value another
host changed since fails it, and the write is tried again after a read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

STRIPES = 64
WAIT = 2.0        # seconds a reservation waits for its turn before it goes without
# Seconds before the second try of a lock another process holds, doubling up to LAST_POLL.
# The turn is where a domain's creates queue on a host: a late try leaves it idle (with 5 ms
# at most, `make bench --only creates --quick` gave 5 clients 0.72-0.80 of raw adds and a
# p95 1.8x theirs; with 1 ms, 0.82-0.83 and 1.5x). A try costs microseconds.
FIRST_POLL = 0.0002
LAST_POLL = 0.001


NOTE_SIZE = 512   # bytes of a note, padded (a domain name is at most 255)
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Note:
    """The quota sum a reservation's write left, and the entryCSN that write gave the
    domain entry (CSNs of one entry order its writes, compared as text)."""

    quota: int
    csn: str


@dataclass
class Turn:
    """A domain's turn on this host: `had` (False: WAIT passed, or no lock files), and the
    lock file, in which holders note the quota sum their writes left."""

    domain: str
    had: bool
    _fd: int | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.had

    def known(self) -> Note | None:
        """What the last holder of this domain's turn noted, if it was this domain's (the
        stripe is shared) and the note is whole; else None."""
        if not self.had or self._fd is None:
            return None
        try:
            parts = os.pread(self._fd, NOTE_SIZE, 0).decode().rstrip(" ").split("\n")
        except (OSError, UnicodeDecodeError):
            return None
        # A note is "domain\ncsn\nquota\n", padded with spaces to NOTE_SIZE bytes; a
        # forgotten one is all spaces.
        if len(parts) != 4 or parts[3] or parts[0] != self.domain.lower() \
                or not parts[1] or not parts[1].isascii() or not _DIGITS.fullmatch(parts[2]):
            return None
        return Note(int(parts[2]), parts[1])

    def note(self, note: Note | None) -> None:
        """Note what the holder's write left (None: forget any note, as before a write
        whose outcome is unknown)."""
        if not self.had or self._fd is None:
            return
        text = "" if note is None else f"{self.domain.lower()}\n{note.csn}\n{note.quota}\n"
        data = text.encode()
        if len(data) > NOTE_SIZE:
            data = b""
        # Always the whole record, in place: one write that never changes the file's size
        # (a truncate and a new block would join slapd's syncs on the same file system).
        with contextlib.suppress(OSError):  # no note is a read more, nothing worse
            os.pwrite(self._fd, data.ljust(NOTE_SIZE), 0)


class DomainLocks:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._threads = [threading.Lock() for _ in range(STRIPES)]
        self._files: dict[int, int] = {}
        self._pid = -1
        self._opening = threading.Lock()

    @contextlib.contextmanager
    def turn(self, domain: str) -> Iterator[Turn]:
        """Hold the domain's lock on this host while the block runs; yields the `Turn`
        (false when it was not had: WAIT passed, or the lock files cannot be used)."""
        stripe = zlib.crc32(domain.lower().encode()) % STRIPES
        deadline = time.monotonic() + WAIT
        if not self._threads[stripe].acquire(timeout=WAIT):
            yield Turn(domain, False)
            return
        try:
            fd = self._file(stripe)
            had = fd is not None and _flock(fd, deadline)
            try:
                yield Turn(domain, had, fd)
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
