"""Failed-login limits per client IP and per username, counted in this process.

Counting per process means a deployment with N workers allows up to N times the limit; the
README says so. Memory is bounded: old failures expire and the table has a size cap.
"""

import threading
import time
from collections import OrderedDict, deque

from .errors import TooManyRequests


class LoginThrottle:
    """Sliding-window count of failed logins; refuses further attempts past the limit."""

    def __init__(self, max_failures=10, window=300, clock=time.monotonic, max_keys=100_000):
        self._max = max_failures
        self._window = window
        self._clock = clock
        self._max_keys = max_keys
        self._failures = OrderedDict()  # key -> deque of failure times, oldest key first
        self._lock = threading.Lock()

    def check(self, client_ip, username):
        """Raise TooManyRequests when the IP or the username has too many recent failures."""
        with self._lock:
            now = self._clock()
            if any(self._recent(key, now) >= self._max for key in _keys(client_ip, username)):
                raise TooManyRequests(detail="too many failed logins; try again later")

    def record_failure(self, client_ip, username):
        with self._lock:
            now = self._clock()
            for key in _keys(client_ip, username):
                times = self._failures.pop(key, None) or deque()
                times.append(now)
                self._failures[key] = times  # move to the newest end
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)

    def _recent(self, key, now):
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return len(times)


def _keys(client_ip, username):
    return (("ip", client_ip or ""), ("user", (username or "").lower()))
