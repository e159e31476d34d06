"""Domain reservations with a directory that keeps losing races: the retry policy of the
quota sum (text, replaced under an assertion), and the increment of account counters that
never retries but gives back what racers took past the limit."""

import pytest

from iredapi_ldap.directory import Entry, Op
from iredapi_ldap.errors import (
    Code,
    ConcurrentUpdate,
    DirectoryUnavailable,
    EntryNotFound,
    LimitExceeded,
    NotFound,
    WritesHeld,
)
from iredapi_ldap.layout import Layout
from iredapi_ldap.services.domain_locks import DomainLocks
from iredapi_ldap.services.repository import Repository
from iredapi_ldap.services.reservations import PATIENCE, Reservations

LAYOUT = Layout("o=domains,dc=x", "o=domainAdmins,dc=x")
MB = 1024 * 1024


def reservations(directory, **kwargs):
    return Reservations(Repository(directory, LAYOUT), **kwargs)


class RacingDirectory:
    """Every modify of the quota sum loses `losses` races (as if another writer got there
    first), then wins; `racers` creates increment the user counter before each of ours."""

    def __init__(self, losses, users=1, limit=5, racers=0):
        self.losses, self.modifies, self.reads, self.racers = losses, 0, 0, racers
        self.increments = []
        self.entry = Entry("domainName=a.test,o=domains,dc=x", {
            "accountSetting": [f"numberOfUsers:{limit}"],
            "domainCurrentUserNumber": [str(users)], "domainCurrentAliasNumber": ["0"],
            "domainCurrentListNumber": ["0"], "domainCurrentQuotaSize": ["0"]})

    def get(self, dn, attributes=None):
        self.reads += 1
        return self.entry

    held = None  # seconds since a failover whose new leader catches up (writes_held)

    def writes_held(self):
        return self.held

    def modify_read(self, dn, changes, attributes, assertion=None):
        self.modifies += 1
        quota = [c for c in changes if c.attribute == "domainCurrentQuotaSize"]
        assert assertion == ("(domainCurrentQuotaSize=0)" if quota else None)
        if quota and self.modifies <= self.losses:
            raise ConcurrentUpdate()
        users = int(self.entry.first("domainCurrentUserNumber")) + self.racers
        for change in changes:
            if change.attribute == "domainCurrentUserNumber":
                assert change.op is Op.INCREMENT
                self.increments.append(int(change.values[0]))
                users += int(change.values[0])
        return Entry(dn, {"domainCurrentUserNumber": [str(users)]})


class FakeTime:
    def __init__(self):
        self.now, self.pauses = 0.0, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds + 0.01  # each try also takes a little time


def test_keeps_trying_through_many_lost_races():
    time = FakeTime()
    directory = RacingDirectory(losses=200)
    reservations(directory, sleep=time.sleep, clock=time.clock).reserve("a.test", quota=1)
    assert directory.modifies == 201
    assert max(time.pauses) <= 0.05


def test_gives_up_only_after_its_patience():
    time = FakeTime()
    directory = RacingDirectory(losses=10**9)
    with pytest.raises(ConcurrentUpdate):
        reservations(directory, sleep=time.sleep, clock=time.clock).reserve("a.test", quota=1)
    assert time.now >= PATIENCE


def test_a_full_domain_is_refused_without_writing():
    directory = RacingDirectory(losses=0, users=1, limit=1)
    with pytest.raises(LimitExceeded):
        reservations(directory).reserve("a.test")
    assert directory.modifies == 0


def test_an_entry_just_read_spares_the_first_read_unless_the_quota_sum_moves():
    directory = RacingDirectory(losses=0)
    reservations(directory).reserve("a.test", entry=directory.entry)
    assert (directory.reads, directory.modifies) == (0, 1)
    time = FakeTime()
    directory = RacingDirectory(losses=2)
    reservations(directory, sleep=time.sleep, clock=time.clock).reserve(
        "a.test", quota=1, entry=directory.entry)
    # The quota sum is read afresh in each try, the first included (in its turn).
    assert (directory.reads, directory.modifies) == (3, 3)
    assert time.pauses == []  # the first two retries go at once


def test_after_a_failover_a_reservation_is_held_and_a_release_is_not():
    directory = RacingDirectory(losses=0)
    directory.held = 0.5
    with pytest.raises(WritesHeld) as held:
        reservations(directory).reserve("a.test")
    assert (held.value.code, held.value.status, held.value.retry_after) == \
        ("WRITES_HELD", 503, 1)
    assert directory.modifies == 0
    with pytest.raises(WritesHeld):
        reservations(directory).move_quota("a.test", 1024)  # a quota raise reserves too
    reservations(directory).release("a.test")  # gives back: goes on
    assert directory.modifies == 1
    directory.held = None
    reservations(directory).reserve("a.test")
    assert directory.modifies == 2


def test_an_account_without_quota_never_retries_however_many_race():
    directory = RacingDirectory(losses=10**9, users=1, limit=50, racers=30)
    reservations(directory).reserve("a.test", entry=directory.entry)
    assert (directory.reads, directory.modifies, directory.increments) == (0, 1, [1])


def test_an_increment_that_racers_took_past_the_limit_is_given_back():
    """Our increment made 6 of 5 (four racers went first): given back, refused."""
    directory = RacingDirectory(losses=0, users=1, limit=5, racers=4)
    with pytest.raises(LimitExceeded):
        reservations(directory).reserve("a.test", entry=directory.entry)
    assert directory.increments == [1, -1]


class LedgerDirectory:
    """One domain entry whose writes apply under their assertion and move its entryCSN,
    as slapd's do; `unavailable`: the next write is lost in an outage."""

    def __init__(self, quota_limit_mb):
        self.reads, self.csn, self.unavailable = 0, 1, False
        self.attrs = {"accountSetting": [f"domainQuota:{quota_limit_mb}"],
                      "domainCurrentUserNumber": ["0"], "domainCurrentAliasNumber": ["0"],
                      "domainCurrentListNumber": ["0"], "domainCurrentQuotaSize": ["0"]}

    def entry(self):
        """The entry as a read returns it (with entryCSN, as a caller asks for it)."""
        return Entry("domainName=a.test,o=domains,dc=x",
                     {**self.attrs, "entryCSN": [f"2026{self.csn:010d}.000000Z#000000#000#000000"]})

    def get(self, dn, attributes=None):
        self.reads += 1
        return self.entry()

    def writes_held(self):
        return None

    def set(self, attribute, value):  # another host's write
        self.attrs[attribute] = [str(value)]
        self.csn += 1

    def modify_read(self, dn, changes, attributes, assertion=None):
        if self.unavailable:
            self.unavailable = False
            raise DirectoryUnavailable()
        if assertion and f"(domainCurrentQuotaSize={self.attrs['domainCurrentQuotaSize'][0]})" \
                != assertion:
            raise ConcurrentUpdate()
        for change in changes:
            old = int(self.attrs[change.attribute][0])
            self.set(change.attribute, old + int(change.values[0]) if change.op is Op.INCREMENT
                     else int(change.values[0]))
        return self.entry()


def ledger_reservations(tmp_path, quota_limit_mb=100):
    directory = LedgerDirectory(quota_limit_mb)
    return directory, Reservations(Repository(directory, LAYOUT,
                                              locks=DomainLocks(tmp_path)))


def test_a_note_as_new_as_the_callers_read_spares_the_read(tmp_path):
    directory, reserving = ledger_reservations(tmp_path)
    reserving.reserve("a.test", quota=10 * MB, entry=directory.entry())
    assert directory.reads == 1  # no note yet: read in the turn
    reserving.reserve("a.test", quota=10 * MB, entry=directory.entry())
    assert directory.reads == 1
    assert directory.attrs["domainCurrentQuotaSize"] == [str(20 * MB)]


def test_a_note_older_than_the_callers_read_refuses_nothing(tmp_path):
    """A sum lowered by another host (or doctor --fix) after this host noted it: the caller
    read the newer entry, so the create is checked against the lower sum and fits."""
    directory, reserving = ledger_reservations(tmp_path, quota_limit_mb=100)
    for _ in range(9):
        reserving.reserve("a.test", quota=10 * MB, entry=directory.entry())
    directory.set("domainCurrentQuotaSize", 40 * MB)
    reserving.reserve("a.test", quota=20 * MB, entry=directory.entry())
    assert directory.attrs["domainCurrentQuotaSize"] == [str(60 * MB)]
    with pytest.raises(LimitExceeded):  # and a full domain is still refused
        reserving.reserve("a.test", quota=50 * MB, entry=directory.entry())


def test_a_write_whose_outcome_is_unknown_leaves_no_note(tmp_path):
    directory, reserving = ledger_reservations(tmp_path)
    reserving.reserve("a.test", quota=10 * MB, entry=directory.entry())
    directory.unavailable = True
    with pytest.raises(DirectoryUnavailable):
        reserving.release("a.test", quota=10 * MB)
    with DomainLocks(tmp_path).turn("a.test") as turn:
        assert turn.known() is None


def test_a_domain_gone_since_the_callers_read(tmp_path):
    """Deleted between the create's read and its write: NO_SUCH_DOMAIN, as when it was
    gone before; a release has nothing to give back."""
    directory, reserving = ledger_reservations(tmp_path)
    entry = directory.entry()

    def gone(*args, **kwargs):
        raise EntryNotFound()
    directory.modify_read = gone
    with pytest.raises(NotFound) as refused:
        reserving.reserve("a.test", kind="alias", entry=entry)
    assert refused.value.codes == (Code.NO_SUCH_DOMAIN,)
    reserving.release("a.test", quota=10 * MB)
