"""Failed-login limits per client address and per (username, client address).

The failures are counted where every worker and every host of a deployment sees them:
iRedAdmin's admin log (policy/logins.py), where iRedAdmin's own web login records its
failures too. A username attacked from many addresses is never locked out for its owner,
who logs in from an address of its own: the limit per username counts one address only.
"""

import time

from .errors import TooManyRequests

# A client address that many users share (an office behind NAT) may fail this many times
# more than one user from one address.
ADDRESS_FACTOR = 3


class LoginThrottle:
    """Refuses a login when its address, or its username from that address, failed too
    often within the window."""

    def __init__(self, records, max_failures=10, window=300, clock=time.time):
        self._records = records
        self._max = max_failures
        self._window = window
        self._clock = clock

    def check(self, client_ip, username):
        """Raise TooManyRequests when the address or the (username, address) pair has
        too many recent failures."""
        by_address, by_pair = self._records.failures(client_ip, username,
                                                     self._clock() - self._window)
        if by_pair >= self._max or by_address >= self._max * ADDRESS_FACTOR:
            raise TooManyRequests(detail="too many failed logins; try again later")

    def record(self, client_ip, username, ok):
        self._records.record_login(client_ip, username, ok, self._clock())
