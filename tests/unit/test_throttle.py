import pytest

from iredapi_ldap.errors import TooManyRequests
from iredapi_ldap.throttle import ADDRESS_FACTOR, LoginThrottle, source_of


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


class Records:
    """LoginRecords in memory: what policy/logins.py keeps in iRedAdmin's log table."""

    def __init__(self):
        self.rows = {}

    def record_failure(self, ip, username, now):
        self.rows[len(self.rows) + 1] = [ip, username, now, "error"]
        return len(self.rows)

    def mark_success(self, row_id):
        self.rows[row_id][3] = "info"

    def forget_failure(self, row_id):
        del self.rows[row_id]

    def failures(self, network, spellings, username, since):
        failed = [r for r in self.rows.values() if r[2] >= since and r[3] == "error"]
        by_network = [r for r in failed if (
            r[0].startswith(network) if network.endswith(":") else r[0] == network)]
        return len(by_network), sum(1 for r in failed if r[0] in spellings and r[1] == username)


def fail(throttle, ip, username):
    throttle.attempt(ip, username)  # and never withdrawn: a wrong password


def test_a_username_is_limited_per_address_and_never_locked_out_for_its_owner():
    clock = Clock()
    throttle = LoginThrottle(Records(), max_failures=3, window=60, clock=clock)
    for i in range(10):  # an attacker from ten addresses
        fail(throttle, f"192.0.2.{i}", "a@example.com")
    throttle.succeeded(throttle.attempt("198.51.100.7", "a@example.com"))  # the owner
    for _ in range(2):
        fail(throttle, "192.0.2.1", "a@example.com")
    with pytest.raises(TooManyRequests):
        throttle.attempt("192.0.2.1", "a@example.com")
    fail(throttle, "192.0.2.1", "b@example.com")  # another user there is not refused yet
    clock.now += 61
    throttle.attempt("192.0.2.1", "a@example.com")


def test_an_address_is_limited_across_usernames():
    records = Records()
    throttle = LoginThrottle(records, max_failures=2, window=60, clock=Clock())
    for i in range(2 * ADDRESS_FACTOR):
        fail(throttle, "192.0.2.1", f"u{i}@example.com")
    with pytest.raises(TooManyRequests):
        throttle.attempt("192.0.2.1", "new@example.com")
    assert len(records.rows) == 2 * ADDRESS_FACTOR  # a refused attempt leaves no record
    for _ in range(5):  # successes do not count, but stay in the log
        throttle.succeeded(throttle.attempt("192.0.2.2", "new@example.com"))
    throttle.withdraw(throttle.attempt("192.0.2.2", "new@example.com"))  # nor a withdrawn one
    throttle.attempt("192.0.2.2", "new@example.com")
    assert [r[3] for r in records.rows.values()].count("info") == 5


def test_an_ipv6_client_counts_as_its_network_and_a_username_per_address():
    throttle = LoginThrottle(Records(), max_failures=2, window=60, clock=Clock())
    for host in range(2 * ADDRESS_FACTOR):  # rotating the low 64 bits
        fail(throttle, f"2001:db8:1:2::{host + 1:x}", "a@example.com")
    with pytest.raises(TooManyRequests):
        throttle.attempt("2001:db8:1:2:ffff:ffff:ffff:ffff", "new@example.com")
    fail(throttle, "2001:db8:1:3::1", "a@example.com")  # the next /64 is another client
    fail(throttle, "2001:db8:1:3::1", "a@example.com")
    with pytest.raises(TooManyRequests):  # the username, from that very address
        throttle.attempt("2001:db8:1:3:0:0:0:1", "a@example.com")


@pytest.mark.parametrize("client, recorded, network", [
    ("192.0.2.10", "192.0.2.10", "192.0.2.10"),
    ("2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:0db8:0000:0000:"),
    ("fe80::1%eth0", "fe80:0000:0000:0000:0000:0000:0000:0001", "fe80:0000:0000:0000:"),
    ("unknown", "unknown", "unknown"),
    ("", "", ""),
])
def test_sources(client, recorded, network):
    assert source_of(client)[:2] == (recorded, network)
    assert len(recorded) <= 40  # iRedAdmin's log.ip
