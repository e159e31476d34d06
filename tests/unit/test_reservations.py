"""Domain reservations with a directory that keeps losing races: the retry policy of the
quota sum (text, replaced under an assertion), and the increment of account counters that
never retries but gives back what racers took past the limit."""

import pytest

from iredapi_ldap.directory import Entry, Op
from iredapi_ldap.errors import (
    Code,
    ConcurrentUpdate,
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


def reservations(directory, **kwargs):
    return Reservations(Repository(directory, LAYOUT), **kwargs)


class RacingDirectory:
    """Every modify of the quota sum loses `losses` races (as if another writer got there
    first), then wins; `racers` creates increment the user counter before each of ours."""

    def __init__(self, losses, users=1, limit=5, racers=0):
        self.losses, self.modifies, self.reads, self.racers = losses, 0, 0, racers
        self.increments = []
        self.entry = Entry("domainName=a.test,o=domains,dc=x", {
            "accountSetting": [f"numberOfUsers:{limit}"], "entryUUID": ["uuid-1"],
            "domainCurrentUserNumber": [str(users)], "domainCurrentAliasNumber": ["0"],
            "domainCurrentListNumber": ["0"], "domainCurrentQuotaSize": ["0"]})
        # What the domain entry holds when a write reaches it (another admin's change
        # since the entry was read, when a test sets it): {attribute: values}.
        self.meanwhile = {}

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
        found = {**self.entry.attrs, **self.meanwhile,
                 "domainCurrentUserNumber": [str(users)]}
        return Entry(dn, {name: found[name] for name in attributes if name in found})


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


def test_a_domain_gone_since_the_callers_read():
    """Deleted between the create's read and its write: NO_SUCH_DOMAIN, as when it was gone
    before; a release has nothing to give back."""
    directory = RacingDirectory(losses=0)

    def gone(*args, **kwargs):
        raise EntryNotFound()
    directory.modify_read = gone
    with pytest.raises(NotFound) as refused:
        reservations(directory).reserve("a.test", kind="alias", entry=directory.entry)
    assert refused.value.codes == (Code.NO_SUCH_DOMAIN,)
    reservations(directory).release("a.test", quota=1)


def test_a_limit_lowered_since_the_callers_read_refuses_the_create():
    """The request read a limit of 5 with 1 user; before its increment, another admin set
    the limit to 1: the write reads back the limit it met, and the room is given back."""
    directory = RacingDirectory(losses=0, users=1, limit=5)
    directory.meanwhile = {"accountSetting": ["numberOfUsers:1"]}
    with pytest.raises(LimitExceeded) as refused:
        reservations(directory).reserve("a.test", entry=directory.entry)
    assert refused.value.detail == "this domain may have at most 1 users"
    assert directory.increments == [1, -1]


def test_a_domain_quota_lowered_before_the_quota_sum_moved_refuses_the_create():
    directory = RacingDirectory(losses=0, users=1)
    directory.entry.attrs["accountSetting"] = ["domainQuota:100"]
    directory.meanwhile = {"accountSetting": ["domainQuota:1"]}
    with pytest.raises(LimitExceeded):
        reservations(directory).reserve("a.test", quota=2 * 1024 * 1024)
    assert directory.increments == [1, -1]


def test_a_domain_made_again_under_its_name_since_the_callers_read():
    """The request's access was decided on another entry (entryUUID): NO_SUCH_DOMAIN, and
    the room taken in the new one given back."""
    directory = RacingDirectory(losses=0)
    directory.meanwhile = {"entryUUID": ["uuid-2"]}
    with pytest.raises(NotFound) as refused:
        reservations(directory).reserve("a.test", entry=directory.entry)
    assert refused.value.codes == (Code.NO_SUCH_DOMAIN,)
    assert directory.increments == [1, -1]


def test_a_domain_made_again_is_refused_before_its_counters_are_touched():
    """With quota and no note in its turn the domain is read afresh: found with another
    entryUUID, it is refused as gone before its limits are checked (their refusal would
    tell the caller about a domain it was never given) or anything is written."""
    directory = RacingDirectory(losses=0)
    read = directory.entry
    directory.entry = Entry(read.dn, {**read.attrs, "entryUUID": ["uuid-2"],
                                      "accountSetting": ["numberOfUsers:1"]})
    with pytest.raises(NotFound) as refused:
        reservations(directory).reserve("a.test", quota=1, entry=read)
    assert refused.value.codes == (Code.NO_SUCH_DOMAIN,)
    assert (directory.reads, directory.modifies) == (1, 0)


class SumDirectory:
    """A domain entry whose quota sum a modify replaces only while the assertion on it
    holds, as slapd does: counts the reads and the writes that failed or landed."""

    def __init__(self, used=0):
        self.reads, self.failed, self.landed = 0, 0, 0
        self.entry = Entry("domainName=a.test,o=domains,dc=x", {
            "accountSetting": ["domainQuota:100"], "entryUUID": ["uuid-1"],
            "domainCurrentUserNumber": ["0"], "domainCurrentAliasNumber": ["0"],
            "domainCurrentListNumber": ["0"], "domainCurrentQuotaSize": [str(used)]})

    def get(self, dn, attributes=None):
        self.reads += 1
        return Entry(dn, dict(self.entry.attrs))

    def writes_held(self):
        return None

    def modify_read(self, dn, changes, attributes, assertion=None):
        held = self.entry.first("domainCurrentQuotaSize")
        if assertion is not None and assertion != f"(domainCurrentQuotaSize={held})":
            self.failed += 1
            raise ConcurrentUpdate()
        self.landed += 1
        for change in changes:
            if change.op is Op.INCREMENT:
                value = int(self.entry.first(change.attribute)) + int(change.values[0])
                self.entry.attrs[change.attribute] = [str(value)]
            else:
                self.entry.attrs[change.attribute] = list(change.values)
        return Entry(dn, {a: self.entry.attrs[a] for a in attributes if a in self.entry.attrs})

    def sum(self):
        return int(self.entry.first("domainCurrentQuotaSize"))


def noted_reservations(directory, tmp_path):
    return Reservations(Repository(directory, LAYOUT, DomainLocks(tmp_path)))


def test_the_quota_sum_the_last_turn_wrote_spares_the_next_its_read(tmp_path):
    """The turn's note holds the sum the last reservation on this host wrote: the next one
    asserts it without reading the entry, and the sum stays exact."""
    directory = SumDirectory()
    reservations = noted_reservations(directory, tmp_path)
    reservations.reserve("a.test", quota=10, entry=directory.get("dn"))
    assert (directory.reads, directory.landed) == (2, 1)  # the caller's read, the turn's
    for _ in range(3):
        reservations.reserve("a.test", quota=10, entry=directory.entry)
    reservations.release("a.test", quota=10)
    assert (directory.reads, directory.failed, directory.landed) == (2, 0, 5)
    assert directory.sum() == 30
    assert directory.entry.first("domainCurrentUserNumber") == "3"
    # Another process of this host, later: the note is in the lock file.
    noted_reservations(directory, tmp_path).reserve("a.test", quota=10, entry=directory.entry)
    assert (directory.reads, directory.sum()) == (2, 40)


def test_a_sum_another_host_moved_fails_the_note_and_is_read_again(tmp_path):
    directory = SumDirectory()
    reservations = noted_reservations(directory, tmp_path)
    reservations.reserve("a.test", quota=10, entry=directory.entry)
    directory.entry.attrs["domainCurrentQuotaSize"] = ["25"]  # another host's create
    reservations.reserve("a.test", quota=10, entry=directory.entry)
    assert (directory.reads, directory.failed, directory.landed) == (2, 1, 2)
    assert directory.sum() == 35
    reservations.reserve("a.test", quota=10, entry=directory.entry)  # noted again
    assert (directory.reads, directory.failed, directory.sum()) == (2, 1, 45)


def test_a_noted_sum_past_the_domain_quota_is_refused_without_writing(tmp_path):
    """The caller's entry gives the limits the note's sum is checked against at once
    (domainQuota:100 is 100 MB)."""
    directory = SumDirectory()
    reservations = noted_reservations(directory, tmp_path)
    reservations.reserve("a.test", quota=90 * 1024 * 1024, entry=directory.entry)
    with pytest.raises(LimitExceeded):
        reservations.reserve("a.test", quota=20 * 1024 * 1024, entry=directory.entry)
    assert (directory.failed, directory.landed, directory.sum()) == (0, 1, 90 * 1024 * 1024)


def test_a_noted_sum_of_a_domain_made_again_is_refused_and_given_back(tmp_path):
    """The note matched the sum of the domain made again under the name: the room its write
    took there is given back and the create refused as NO_SUCH_DOMAIN (no limit of the new
    domain told)."""
    directory = SumDirectory()
    reservations = noted_reservations(directory, tmp_path)
    read = directory.get("dn")
    reservations.reserve("a.test", quota=10, entry=read)
    directory.entry.attrs.update({"entryUUID": ["uuid-2"], "accountSetting": ["numberOfUsers:1"],
                                  "domainCurrentUserNumber": ["1"]})
    with pytest.raises(NotFound) as refused:
        reservations.reserve("a.test", quota=10, entry=read)
    assert refused.value.codes == (Code.NO_SUCH_DOMAIN,)
    assert (directory.sum(), directory.entry.first("domainCurrentUserNumber")) == (10, "1")


def test_a_note_above_the_sum_refuses_nothing_that_fits(tmp_path):
    """Something else lowered the sum below the note (another host's delete, doctor --fix,
    iRedAdmin): creates that fit are not refused on the note's word; one fresh read each
    until a write leaves a true note again."""
    directory = SumDirectory()
    reservations = noted_reservations(directory, tmp_path)
    mb = 1024 * 1024
    reservations.reserve("a.test", quota=90 * mb, entry=directory.entry)
    directory.entry.attrs["domainCurrentQuotaSize"] = [str(10 * mb)]
    reads = directory.reads
    reservations.reserve("a.test", quota=20 * mb, entry=directory.entry)
    assert (directory.sum(), directory.reads - reads, directory.failed) == (30 * mb, 1, 0)
    reservations.reserve("a.test", quota=20 * mb, entry=directory.entry)  # noted again
    assert (directory.sum(), directory.reads - reads) == (50 * mb, 1)
