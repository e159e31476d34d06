import pytest

from iredapi_ldap.errors import TooManyRequests
from iredapi_ldap.throttle import ADDRESS_FACTOR, LoginThrottle


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


class Records:
    """LoginRecords in memory: what policy/logins.py keeps in iRedAdmin's log table."""

    def __init__(self):
        self.rows = []

    def record_login(self, ip, username, ok, now):
        self.rows.append((ip, username, ok, now))

    def failures(self, ip, username, since):
        failed = [r for r in self.rows if not r[2] and r[0] == ip and r[3] >= since]
        return len(failed), sum(1 for r in failed if r[1] == username)


def test_a_username_is_limited_per_address_and_never_locked_out_for_its_owner():
    clock = Clock()
    throttle = LoginThrottle(Records(), max_failures=3, window=60, clock=clock)
    for i in range(10):  # an attacker from ten addresses
        throttle.check(f"192.0.2.{i}", "a@example.com")
        throttle.record(f"192.0.2.{i}", "a@example.com", ok=False)
    throttle.check("198.51.100.7", "a@example.com")  # the owner, from its own address
    for _ in range(3):
        throttle.record("192.0.2.1", "a@example.com", ok=False)
    with pytest.raises(TooManyRequests):
        throttle.check("192.0.2.1", "a@example.com")
    throttle.check("192.0.2.1", "b@example.com")  # another user there is not refused yet
    clock.now += 61
    throttle.check("192.0.2.1", "a@example.com")


def test_an_address_is_limited_across_usernames():
    throttle = LoginThrottle(Records(), max_failures=2, window=60, clock=Clock())
    for i in range(2 * ADDRESS_FACTOR):
        throttle.record("192.0.2.1", f"u{i}@example.com", ok=False)
    with pytest.raises(TooManyRequests):
        throttle.check("192.0.2.1", "new@example.com")
    throttle.check("192.0.2.2", "new@example.com")
    throttle.record("192.0.2.2", "new@example.com", ok=True)  # successes do not count
    throttle.check("192.0.2.2", "new@example.com")
