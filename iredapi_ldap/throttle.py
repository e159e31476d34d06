"""Failed-login limits per client address and per (username, client address).

The failures are counted where every worker and every host of a deployment sees them:
iRedAdmin's admin log (policy/logins.py), where iRedAdmin's own web login records its
failures too. A username attacked from many addresses is never locked out for its owner,
who logs in from an address of its own: the limit per username counts one address only.

An IPv6 client counts as its /64 network, which one host usually holds whole: rotating the
low 64 bits does not buy more guesses. Its address is recorded written out in full, so that
the network is a prefix of the text.

Each attempt is recorded as a failure before its password is checked, and counted with
the ones before it; a success (or an outage before the check) takes its record back.
Racing attempts therefore cannot check more passwords than the limit allows, however many
run at once.
"""

import ipaddress
import time

from .errors import TooManyRequests

# A client address that many users share (an office behind NAT) may fail this many times
# more than one user from one address.
ADDRESS_FACTOR = 3


def source_of(client_ip):
    """(the address as recorded, what failures are counted by: the address, or for IPv6
    the text prefix of its /64 network)."""
    try:
        address = ipaddress.ip_address(client_ip or "")
    except ValueError:
        return client_ip or "", client_ip or ""
    if address.version == 4:
        return str(address), str(address)
    exploded = address.exploded  # 39 characters: fits iRedAdmin's log.ip (40)
    return exploded, exploded[:20]  # "2001:0db8:0001:0002:"


class LoginThrottle:
    """Refuses a login when its address, or its username from that address, failed too
    often within the window."""

    def __init__(self, records, max_failures=10, window=300, clock=time.time):
        self._records = records
        self._max = max_failures
        self._window = window
        self._clock = clock

    def attempt(self, client_ip, username):
        """Record an attempt (as failed, until withdrawn); returns its ticket.

        Raises:
            TooManyRequests: the address (network) or the (username, address) pair failed
                too often recently; the attempt is not recorded.
        """
        recorded, source = source_of(client_ip)
        now = self._clock()
        ticket = self._records.record_failure(recorded, username, now)
        by_address, by_pair = self._records.failures(source, username, now - self._window)
        if by_pair > self._max or by_address > self._max * ADDRESS_FACTOR:
            self._records.forget_failure(ticket)
            raise TooManyRequests(detail="too many failed logins; try again later")
        return ticket

    def withdraw(self, ticket):
        """The attempt of `ticket` was no wrong password after all (it succeeded, or no
        password was checked)."""
        self._records.forget_failure(ticket)
