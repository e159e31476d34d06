import pytest

from iredapi_ldap.errors import TooManyRequests
from iredapi_ldap.throttle import LoginThrottle


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_limit_per_username_across_ips_then_window_expires():
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window=60, clock=clock)
    for i in range(3):
        throttle.check(f"192.0.2.{i}", "a@example.com")
        throttle.record_failure(f"192.0.2.{i}", "a@example.com")
    with pytest.raises(TooManyRequests):
        throttle.check("192.0.2.99", "A@example.com")
    throttle.check("192.0.2.99", "b@example.com")  # other users from a fresh IP are fine
    clock.now = 61
    throttle.check("192.0.2.99", "a@example.com")


def test_limit_per_ip_across_usernames():
    throttle = LoginThrottle(max_failures=2, window=60, clock=Clock())
    throttle.record_failure("192.0.2.1", "a@example.com")
    throttle.record_failure("192.0.2.1", "b@example.com")
    with pytest.raises(TooManyRequests):
        throttle.check("192.0.2.1", "c@example.com")
    throttle.check("192.0.2.2", "c@example.com")


def test_memory_is_bounded():
    throttle = LoginThrottle(max_failures=2, window=60, clock=Clock(), max_keys=10)
    for i in range(100):
        throttle.record_failure(f"10.0.0.{i}", f"u{i}@example.com")
    assert len(throttle._failures) <= 10
