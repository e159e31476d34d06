"""Reserving room in a domain's limits, exactly, under concurrency.

The domain entry's counters are the lock. A reservation is one modify that increments the
kind's counter (`domainCurrentUserNumber`, `...AliasNumber`, `...ListNumber`; RFC 4525) and
reads back the value it made (RFC 4527 post-read): a create whose increment went past the
limit gives it back and is refused, so N parallel creates against a limit of K leave exactly
K accounts, without any of them having to try again. `domainCurrentQuotaSize` is stored as
text in iRedMail's schema, which has no increment: a reservation with quota also replaces
it, in the same modify, under an assertion (RFC 4528) that it still holds the value the
limit was checked against; a concurrent quota change makes the modify fail as a whole, and
it is tried again with the new value. A host's workers take turns on a domain's quota sum
(services/domain_locks.py), and each leaves the sum it wrote in the turn for the next: that
one asserts it without reading the entry first (one LDAP search less per create). When
anything else moved the sum meanwhile (another host, iRedAdmin, `doctor --fix`, a domain
deleted and made again), the assertion fails and the entry is read; a limit the note would
pass is checked on the write's own post-read, and one it would refuse on a fresh read. The
write reads back, with the counter, the limits and the entryUUID it found (RFC 4527): a
create is settled against the limits as they were when it was counted, not as the request
first read them, and in the very domain whose entry the request's access was decided on (a
domain deleted and made again under the same name meanwhile is another one).

The reservation and the entry it counts are two writes: slapd 2.5 (Debian 12) has LDAP
transactions (RFC 5805), but measured here it cannot commit a delete or a move in one and
crashed under concurrent ones (SIGSEGV in 3 of 27 runs of 20 racing creates), so they are
not used. `add_counted` orders the two instead: room first, then the entry; room given
back when the entry was refused. Only when slapd goes away during the add and stays away is
the outcome unknown: the counters may then stay one account too high (never too low, so a
limit never lets one too many through) until `doctor --fix` recounts them.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

from ..directory import Change, Op
from ..errors import (
    ConcurrentUpdate,
    DirectoryUnavailable,
    EntryNotFound,
    LimitExceeded,
    NotFound,
    WritesHeld,
    no_such_domain,
)
from ..model.kinds import COUNTED
from ..model.limits import DomainLimits
from ..model.parsing import stored_int
from . import counters
from .domain_locks import Turn
from .repository import Repository

if TYPE_CHECKING:
    from ..directory import Entry

PATIENCE = 10.0      # seconds a reservation keeps trying against concurrent writers
MAX_PAUSE = 0.05     # longest pause between two tries


class Reservations:
    def __init__(self, repo: Repository, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._repo = repo
        self._sleep = sleep
        self._clock = clock

    def reserve(self, domain: str, kind: str = "user", count: int = 1, quota: int = 0,
                entry: Entry | None = None) -> None:
        """Count `count` more accounts of `kind` (user, alias, list) and `quota` more bytes
        in the domain, within its limits. `entry`, the domain entry the caller has just read
        (with accountSetting and the counters), spares the first try a read; with its
        entryUUID, the room is taken in that entry only (NO_SUCH_DOMAIN when the domain
        was made again meanwhile).

        Raises:
            LimitExceeded: the domain is full (EXCEEDED_LIMIT), names which limit.
            NotFound: NO_SUCH_DOMAIN, the domain is gone or was made again meanwhile.
            ConcurrentUpdate: still losing races after PATIENCE seconds.
        """
        self._change(domain, kind, count, quota, check=True, entry=entry,
                     identity=entry.first("entryUUID") if entry is not None else None)

    def release(self, domain: str, kind: str = "user", count: int = 1, quota: int = 0) -> None:
        """Give back what `reserve` took (on delete, or when a create failed)."""
        self._change(domain, kind, -count, -quota, check=False)

    def move_quota(self, domain: str, delta: int) -> None:
        """Change the domain's used quota by `delta` bytes (a user's quota changed)."""
        self._change(domain, "user", 0, delta, check=delta > 0)

    def add_counted(self, dn: str, attributes: Mapping[str, Sequence[Any]], domain: str,
                    kind: str = "user", quota: int = 0,
                    reserve: Callable[[], None] | None = None,
                    before: Callable[[], None] | None = None,
                    undo_before: Callable[[], None] | None = None) -> None:
        """Add the entry at `dn` after reserving its room (`reserve()`, by default
        `reserve(domain, kind, quota=quota)`) and running `before()` (writes that must
        precede the entry, undone by `undo_before()`); the room is given back if the add
        is refused. An add whose answer was lost in an outage is looked for once more:
        found, it happened."""
        (reserve or (lambda: self.reserve(domain, kind, quota=quota)))()
        try:
            if before is not None:
                before()
            self._repo.directory.add(dn, attributes)
        except BaseException as exc:
            if isinstance(exc, DirectoryUnavailable) and \
                    self._repo.directory.get(dn, ["1.1"]) is not None:  # may raise: see above
                return
            if undo_before is not None:
                undo_before()
            self.release(domain, kind, quota=quota)
            raise

    def _change(self, domain: str, kind: str, count: int, quota: int, check: bool,
                entry: Entry | None = None, identity: str | None = None) -> None:
        if not count and not quota:
            return
        if check:
            require_reserving_writes(self._repo)
        counter = cast(str, COUNTED[kind].counter)  # every counted kind has one
        deadline, attempt = self._clock() + PATIENCE, 0
        while True:
            attempt += 1
            try:
                # The quota sum is replaced under an assertion on its value: this host's
                # workers take turns, each asserting the sum the last one wrote (the turn's
                # note), or else reading it afresh in its turn.
                with self._turn(domain, quota) as turn:
                    known = _noted_sum(turn) if attempt == 1 else None
                    done = self._try(domain, kind, counter, count, quota, check,
                                     None if (quota and known is None) or attempt > 1
                                     else entry, identity, known)
                    if done is not None:
                        turn.remember(done[0].first(counters.QUOTA))
            except ConcurrentUpdate:  # another host moved the quota sum on meanwhile
                if self._clock() >= deadline:
                    raise ConcurrentUpdate(detail="the domain is too busy; try again") \
                        from None
                if attempt > 2:  # random, growing pauses spread persistent racers apart
                    self._sleep(random.uniform(0, min(MAX_PAUSE, 0.001 * 2 ** min(attempt, 6))))
                continue
            if done is not None:
                self._settle(domain, kind, counter, count, quota, *done, check, identity)
            return

    def _turn(self, domain: str, quota: int) -> AbstractContextManager[Turn]:
        locks = self._repo.locks
        return locks.turn(domain) if quota and locks is not None \
            else contextlib.nullcontext(Turn(None))

    def _try(self, domain: str, kind: str, counter: str, count: int, quota: int,
             check: bool, entry: Entry | None, identity: str | None = None,
             known: int | None = None) -> tuple[Entry, int] | None:
        """One try: the counters checked and written; (the entry as the write left it, the
        quota sum it replaced); None when there is nothing to write (a domain gone, or
        counters just counted without what a release would take off). With `check`, a
        domain entry read afresh that is not `identity` (made again since the caller read
        it) is refused as gone: neither its counters nor its limits are the caller's.
        `known`: the quota sum as this host last wrote it, asserted without reading the
        entry first (`_settle` checks the limits the write found); with `check`, what the
        caller's `entry` and `known` would refuse is read afresh and checked again, so a
        refusal never rests on a note that another writer has made stale."""
        dn = self._repo.domain_dn(domain)
        if known is not None:
            if _note_will_do(kind, counter, count, quota, known, check, entry):
                # Counters gone since (or a sum moved on) fail the assertion as a whole:
                # the next try reads them.
                return self._write_or_gone(dn, domain, counter, count, known, quota, check)
            entry = None
        if entry is None:
            entry = self._domain_entry(dn, domain, check)
            if entry is None:
                return None  # nothing to give back to a domain that is gone
        if check and identity is not None and entry.first("entryUUID") != identity:
            raise no_such_domain(domain)
        missing = {a for a in (counter, counters.QUOTA) if entry.first(a) is None}
        current = counters.ensure_counters(self._repo, domain, entry)
        held, used = current[counter], current[counters.QUOTA]
        if check:  # refused at once, without a write, when it is full already
            _check(DomainLimits.of(entry), kind, held, count, used, quota)
        # A release after the entry went (delete, move, quota lowered) on counters just
        # counted: the count already lacks it, and taking it off again would leave them
        # too low, which could let a limit be passed.
        count = 0 if count < 0 and counter in missing else count
        quota = 0 if quota < 0 and counters.QUOTA in missing else quota
        if not count and not quota:
            return None
        return self._write_or_gone(dn, domain, counter, count, used, quota, check)

    def _write_or_gone(self, dn: str, domain: str, counter: str, count: int, used: int,
                       quota: int, check: bool) -> tuple[Entry, int] | None:
        """`_write`, and (the entry it left, `used`); a domain deleted since the caller
        read it: NO_SUCH_DOMAIN with `check`, else None (nothing to give back)."""
        try:
            return self._write(dn, counter, count, used, quota, check), used
        except EntryNotFound:
            if check:
                raise no_such_domain(domain) from None
            return None

    def _domain_entry(self, dn: str, domain: str, check: bool) -> Entry | None:
        entry = self._repo.directory.get(dn, ["accountSetting", "entryUUID",
                                             *counters.ATTRIBUTES])
        if entry is None and check:
            raise no_such_domain(domain)
        return entry

    def _write(self, dn: str, counter: str, count: int, used: int, quota: int,
               check: bool) -> Entry:
        """One modify: the account counter goes up (or down) by `count` with an increment
        (RFC 4525), which no concurrent create can make fail; the quota sum, stored as text
        (no increment possible), is replaced only while it still holds `used`. Returns the
        counter as this very write left it (RFC 4527 post-read), with `check` also the
        limits and the entryUUID `_settle` checks (a release checks nothing: decoding them
        costs about 0.4 ms), and when it moved the quota sum, the sum it wrote (the note
        it leaves in the turn)."""
        changes = []
        if count:
            changes.append(Change(counter, Op.INCREMENT, (str(count),)))
        if quota:
            changes.append(Change(counters.QUOTA, Op.REPLACE, (str(max(used + quota, 0)),)))
        read = [counter, "accountSetting", "entryUUID"] if check else [counter]
        return self._repo.directory.modify_read(
            dn, changes, read + [counters.QUOTA] if quota else read,
            assertion=f"({counters.QUOTA}={used})" if quota else None)

    def _settle(self, domain: str, kind: str, counter: str, count: int, quota: int,
                after: Entry, used: int, check: bool, identity: str | None) -> None:
        """After `_write` (`used`: the quota sum it replaced). With `check`, room taken in
        another entry than `identity` (the domain was made again meanwhile) or past the
        limits as the write found them (racing creates took it first, or a limit was
        lowered) is given back and refused. A counter found below zero (drift) is counted
        from zero: a create's increment makes it its own count, a release's is put back
        to zero."""
        value, dn = stored_int(after.first(counter)), self._repo.domain_dn(domain)
        if check:
            try:
                if identity is not None and after.first("entryUUID") != identity:
                    raise no_such_domain(domain)
                _check(DomainLimits.of(after), kind, value - count, count, used, quota)
            except (LimitExceeded, NotFound):
                self.release(domain, kind, count, quota)
                raise
        if count > 0 and value < count:  # it was below zero (drift): count from zero
            self._repo.directory.modify(dn, [Change(counter, Op.INCREMENT,
                                                    (str(count - value),))])
        elif value < 0:
            with contextlib.suppress(ConcurrentUpdate):  # moved on: its writer settles it
                self._repo.directory.modify(dn, [Change(counter, Op.REPLACE, ("0",))],
                                            assertion=f"({counter}={value})")


def _note_will_do(kind: str, counter: str, count: int, quota: int, known: int,
                  check: bool, entry: Entry | None) -> bool:
    """Whether a write may assert the noted quota sum `known` without reading the domain
    entry first: not when the caller's `entry` lacks a counter (ensure_counters has them
    counted), nor, with `check`, when its limits would refuse the create with `known`
    (only a fresh read may refuse: the note may be stale). The caller's `entry` is the one
    its identity was taken from; `_settle` checks the identity of the entry written."""
    if entry is None:
        return True
    if any(entry.first(a) is None for a in (counter, counters.QUOTA)):
        return False
    if check:
        try:
            _check(DomainLimits.of(entry), kind, stored_int(entry.first(counter)), count,
                   known, quota)
        except LimitExceeded:
            return False
    return True


def _noted_sum(turn: Turn) -> int | None:
    """The quota sum the turn's last holder on this host wrote, if it left it."""
    note = turn.recall()
    return int(note) if note is not None and note.isdigit() else None


def require_reserving_writes(repo: Repository) -> None:
    """WRITES_HELD (503, Retry-After) while the directory's leader changes (a failover or a
    fail-back, directory/leader.py): a limit checked against counters the new leader has
    not yet brought up to date, or while another worker still writes on the old one, could
    let too many through. Reads and writes that reserve nothing go on."""
    if repo.directory.writes_held() is not None:
        raise WritesHeld(retry_after=1, detail="the directory is changing servers; creates "
                         "and quota raises wait until they agree")


def _check(limits: DomainLimits, kind: str, held: int, count: int, used: int,
           quota: int) -> None:
    limit, name = limits.max_accounts(COUNTED[kind]), COUNTED[kind].plural
    if count > 0 and limit == -1:
        raise LimitExceeded(detail=f"this domain may not have {name}")
    if count > 0 and limit > 0 and held + count > limit:
        raise LimitExceeded(detail=f"this domain may have at most {limit} {name}")
    if quota > 0 and limits.domain_quota and used + quota > limits.domain_quota:
        raise LimitExceeded(detail="the domain's quota would be exceeded")
