"""The retry policy of domain reservations, with a directory that keeps losing races."""

import pytest

from iredapi_ldap.directory import Entry
from iredapi_ldap.errors import ConcurrentUpdate, LimitExceeded, WritesHeld
from iredapi_ldap.layout import Layout
from iredapi_ldap.services.repository import Repository
from iredapi_ldap.services.reservations import PATIENCE, Reservations

LAYOUT = Layout("o=domains,dc=x", "o=domainAdmins,dc=x")


def reservations(directory, **kwargs):
    return Reservations(Repository(directory, LAYOUT), **kwargs)


class RacingDirectory:
    """Every modify loses `losses` races (as if another writer got there first), then wins."""

    def __init__(self, losses, users=1, limit=5):
        self.losses, self.modifies, self.reads = losses, 0, 0
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

    def modify(self, dn, changes, assertion=None):
        self.modifies += 1
        assert assertion == "(&(domainCurrentUserNumber=1)(domainCurrentQuotaSize=0))"
        if self.modifies <= self.losses:
            raise ConcurrentUpdate()


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
    reservations(directory, sleep=time.sleep, clock=time.clock).reserve("a.test")
    assert directory.modifies == 201
    assert max(time.pauses) <= 0.05


def test_gives_up_only_after_its_patience():
    time = FakeTime()
    directory = RacingDirectory(losses=10**9)
    with pytest.raises(ConcurrentUpdate):
        reservations(directory, sleep=time.sleep, clock=time.clock).reserve("a.test")
    assert time.now >= PATIENCE


def test_a_full_domain_is_refused_without_writing():
    directory = RacingDirectory(losses=0, users=1, limit=1)
    with pytest.raises(LimitExceeded):
        reservations(directory).reserve("a.test")
    assert directory.modifies == 0


def test_an_entry_just_read_spares_the_first_read_but_not_the_retries():
    directory = RacingDirectory(losses=0)
    reservations(directory).reserve("a.test", entry=directory.entry)
    assert (directory.reads, directory.modifies) == (0, 1)
    time = FakeTime()
    directory = RacingDirectory(losses=2)
    reservations(directory, sleep=time.sleep, clock=time.clock).reserve(
        "a.test", entry=directory.entry)
    assert (directory.reads, directory.modifies) == (2, 3)  # each retry reads afresh


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
