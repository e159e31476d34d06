"""Failed-login limits per client address and per (username, client address).

The failures are counted where every worker and every host of a deployment sees them:
iRedAdmin's admin log (policy/logins.py), where iRedAdmin's own web login records its
failures too. A username attacked from many addresses is never locked out for its owner,
who logs in from an address of its own: the limit per username counts one address only.

An IPv6 client's address counts alone against the limit per username, and as its /64
network (which one host usually holds whole) against the limit per address: rotating the
low 64 bits buys no more guesses. It is recorded written out in full, so that the network
is a prefix of the text (iRedAdmin's own rows, compressed, count for the username only).

Each attempt is recorded as a failure before its password is checked, and counted with
the ones before it; a success turns its record into iRedAdmin's "login success", and an
outage before the check takes it back. Racing attempts therefore cannot check more
passwords than the limit allows, however many run at once (a burst of right passwords
over the limit, all in flight at once, may be told to wait too).
"""

import ipaddress
import logging
import time

from .errors import ApiError, TooManyRequests

log = logging.getLogger(__name__)

# A client address that many users share (an office behind NAT) may fail this many times
# more than one user from one address.
ADDRESS_FACTOR = 3


def source_of(client_ip):
    """(recorded, network, spellings) of a client address: the text written to the log;
    what failures across usernames are counted by (the address, or for IPv6 the text
    prefix of its /64); and the spellings of the address itself (IPv6 written out and
    compressed) that a username's failures are counted by."""
    text = client_ip or ""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text, text, (text,)
    if address.version == 4:
        return str(address), str(address), (str(address),)
    exploded = address.exploded  # 39 characters: fits iRedAdmin's log.ip (40)
    return exploded, exploded[:20], (exploded, str(address))  # "2001:0db8:0001:0002:"


class LoginThrottle:
    """Refuses a login when its address, or its username from that address, failed too
    often within the window."""

    def __init__(self, records, max_failures=10, window=300, clock=time.time):
        self._records = records
        self._max = max_failures
        self._window = window
        self._clock = clock

    def attempt(self, client_ip, username):
        """Record an attempt (as failed, until `succeeded` or `withdraw`); its ticket.

        Raises:
            TooManyRequests: the address (network) or the (username, address) pair failed
                too often recently; the attempt is not recorded.
        """
        recorded, network, spellings = source_of(client_ip)
        now = self._clock()
        ticket = self._records.record_failure(recorded, username, now)
        try:
            by_network, by_pair = self._records.failures(network, spellings, username,
                                                         now - self._window)
        except BaseException:
            self.withdraw(ticket)
            raise
        if by_pair > self._max or by_network > self._max * ADDRESS_FACTOR:
            self.withdraw(ticket)
            raise TooManyRequests(detail="too many failed logins; try again later")
        return ticket

    def succeeded(self, ticket):
        """The attempt of `ticket` had the right password."""
        try:
            self._records.mark_success(ticket)
        except ApiError as exc:  # the login stands; its row counts as a failure
            log.warning("could not record a login's success: %s", exc)

    def withdraw(self, ticket):
        """No password was checked for `ticket` (refused, or an outage): take it back,
        if the database lets us."""
        try:
            self._records.forget_failure(ticket)
        except ApiError as exc:
            log.warning("could not take back a login attempt's record: %s", exc)
