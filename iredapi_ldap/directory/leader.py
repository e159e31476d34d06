"""Which server of LDAP_URI a worker reads and writes through: one choice for all its
threads, and when it may move back to an earlier one.

Replicating providers (multi-provider) must take writes on one provider only: two writes of
the same entry on two providers are merged by "last writer wins" on whole entries, so limits
and counters break (OpenLDAP's admin guide recommends one writable provider, "mirror mode").
Every host lists the providers in the same order; each worker uses the first that answers,
and all its threads follow as soon as one of them finds it down.

Fail-back: while a worker is not on the first server, the servers before the current one
are checked every `failback_interval` seconds, and the worker moves back to the first of
them that holds everything the current one holds (its contextCSN, for every server ID the
current one has seen): a provider that came back but has not yet caught up would otherwise
take writes on entries it holds older versions of.

Writes held after a failover: the new leader may not yet have applied all the old one sent
it, so a limit checked against its counters could let too many through (measured: counters
lost 61-256 increments on failover under load), and a crashed leader may have acknowledged
writes (of any host) it never sent. After a failover, `hold` says so; the worker goes back
to the old leader once it answers and the new one holds all it holds; if it stays down,
the hold ends after LDAP_FAILOVER_HOLD seconds, once the new leader has applied all it
received (`ThreadBoundDirectory._check_caught_up`). After a fail-back, the other workers and
hosts are still on the server left until their own check: reserving writes wait one
interval (and the time a check takes), and until the server moved to holds all the one left
holds. While a worker's own fail-back check is overdue or running, its reserving writes wait
for it too (`failback_pending`): an idle worker would otherwise write on the server the
others have left.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

log = logging.getLogger(__name__)


CATCH_UP_RETRY = 0.2   # seconds between two checks whether the new leader has caught up
NOTE_INTERVAL = 0.5    # seconds between two readings of the leader's contextCSN


@dataclass(frozen=True)
class WriteHold:
    """After a failover from `old` to `new`: writes that reserve against a limit wait until
    the leader's contextCSN covers `awaited` (the old leader's, as last read) and the
    counters are repaired."""

    old: str
    new: str
    awaited: tuple[str, ...]
    since: float
    not_before: float = 0.0  # a fail-back: until every host has had its check, see below


class Leader:
    """The provider in use, shared by the threads of one worker."""

    def __init__(self, uris: Sequence[str], failback_interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 failback_settle: float = 0.0) -> None:
        self._uris = tuple(uris)
        self._index = 0
        self._lock = threading.Lock()
        self._interval = failback_interval
        self._settle = failback_settle
        self._clock = clock
        self._check_at = 0.0
        self._checking = False
        # URI -> the newest CSN per server ID it was seen to hold (contextCSN readings and the
        # entryCSN of reservations made on it)
        self._seen: dict[str, tuple[str, ...]] = {}
        self._note_at = 0.0
        self._hold: Optional[WriteHold] = None
        self._catching_up = False
        self._catch_up_at = 0.0

    @property
    def current(self) -> str:
        """The URI every thread reads and writes through."""
        return self._uris[self._index]

    def found_down(self, uri: str) -> None:
        """A thread could not use `uri` (connect or bind failed or timed out): when it is the
        current one, every thread moves to the next server of LDAP_URI (after the last: the
        first). A thread that reports a server the others have already left changes
        nothing, so threads that find the same server down at once move only once."""
        with self._lock:
            if self._uris[self._index] != uri or len(self._uris) == 1:
                return
            self._index = (self._index + 1) % len(self._uris)
            self._check_at = self._clock() + self._interval
            awaited = self._seen.get(uri, ())
            if self._hold is not None:  # a failover before the last one was caught up
                awaited = tuple(sorted({*awaited, *self._hold.awaited}))
            self._hold = WriteHold(uri, self._uris[self._index], awaited, self._clock())
            log.warning("directory server %s is down: reads and writes go to %s now",
                        uri, self._uris[self._index])

    def failback_candidates(self) -> Optional[tuple[str, tuple[str, ...]]]:
        """(the current server, the servers before it) when a fail-back check is due, for
        the one caller that is to run it (it must call `failback_checked` after); else None."""
        if self._index == 0:  # the usual case, without the lock
            return None
        with self._lock:
            if self._index == 0 or self._checking or self._clock() < self._check_at:
                return None
            self._checking = True
            return self._uris[self._index], self._uris[:self._index]

    def failback_checked(self, current: str, chosen: Optional[str]) -> None:
        """The check of `failback_candidates` is over: move back to `chosen` (None: stay),
        unless the worker moved meanwhile."""
        with self._lock:
            self._checking = False
            self._check_at = self._clock() + self._interval
            if chosen is None or self._uris[self._index] != current:
                return
            self._move_back(current, chosen)

    def moved_back(self, current: str, earlier: str) -> None:
        """The server left in a failover (`earlier`) answers again and holds all `current`
        holds: move back to it at once (the other workers that never left it may be
        writing there), with the hold of a fail-back."""
        with self._lock:
            if self._uris[self._index] == current:
                self._move_back(current, earlier)

    def _move_back(self, current: str, chosen: str) -> None:
        self._index = self._uris.index(chosen)
        # Other hosts (and workers) are still on `current` until their own check, up to
        # an interval later: reserving writes on two providers at once would merge by
        # "last writer wins" and lose counts. They wait until all have moved.
        now = self._clock()
        self._hold = WriteHold(current, chosen, self._seen.get(current, ()), now,
                               not_before=now + self._interval + self._settle)
        log.warning("directory server %s holds all that %s holds: reads and writes go "
                    "back to it", chosen, current)

    def failback_pending(self) -> bool:
        """Whether this worker is not on the first server and its fail-back check is due or
        running: reserving writes wait for it (the other workers may have moved back)."""
        if self._index == 0:
            return False
        with self._lock:
            return self._index != 0 and (self._checking or self._clock() >= self._check_at)


    # -- writes held after a failover -------------------------------------------------------

    @property
    def hold(self) -> Optional[WriteHold]:
        """The hold of writes that reserve against a limit, None when they may go on."""
        return self._hold

    def note_due(self) -> Optional[str]:
        """The current leader when its contextCSN is to be read again (at most every
        NOTE_INTERVAL seconds, by one caller): what a failover from it waits for."""
        now = self._clock()
        if now < self._note_at:
            return None
        with self._lock:
            if now < self._note_at:
                return None
            self._note_at = now + NOTE_INTERVAL
            return self.current

    def noted(self, uri: str, csns: Sequence[str]) -> None:
        """`uri` holds the contextCSN `csns` (read by `_read_context_csns`)."""
        with self._lock:
            self._seen[uri] = newest(*self._seen.get(uri, ()), *csns)

    def wrote(self, uri: str, csn: str) -> None:
        """`uri` took a write stamped `csn` (a reservation's entryCSN, read back by the
        write itself): a failover from it waits for it too, not only for the contextCSN
        read last (up to NOTE_INTERVAL older)."""
        self.noted(uri, (csn,))

    def catch_up_due(self) -> Optional[WriteHold]:
        """The hold, for the one caller that is to check now whether it may end (it must
        call `catch_up_checked` after); None when no check is due."""
        if self._hold is None:
            return None
        with self._lock:
            if self._hold is None or self._catching_up or self._clock() < max(
                    self._catch_up_at, self._hold.not_before):
                return None
            self._catching_up = True
            return self._hold

    def catch_up_checked(self, hold: WriteHold, caught_up: bool) -> None:
        """The check of `catch_up_due` is over: with `caught_up`, writes go on (unless
        another failover replaced `hold` meanwhile)."""
        with self._lock:
            self._catching_up = False
            self._catch_up_at = self._clock() + CATCH_UP_RETRY
            if caught_up and self._hold is hold:
                self._hold = None
                log.warning("directory server %s holds all that %s held: writes that count "
                            "against a limit go on after %.1f s", self.current, hold.old,
                            self._clock() - hold.since)


def holds_everything(candidate: Sequence[str], current: Sequence[str]) -> bool:
    """Whether a server whose contextCSN values are `candidate` holds every change that one
    with `current` holds: for each server ID in `current`, a CSN at least as new. (CSNs of
    one format compare as strings: `20261129105317.109592Z#000000#001#000000`.)"""
    newest = _by_server_id(candidate)
    return all(newest.get(sid, "") >= csn for sid, csn in _by_server_id(current).items())


def newest(*csns: str) -> tuple[str, ...]:
    """The newest of `csns` for each server ID, sorted."""
    return tuple(sorted(_by_server_id(csns).values()))


def _by_server_id(csns: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for csn in csns:
        parts = csn.split("#")
        if len(parts) == 4:
            found[parts[2]] = max(found.get(parts[2], ""), csn)
    return found
