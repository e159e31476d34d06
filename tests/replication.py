"""The two-provider topology of the replication tests: throwaway slapd providers that
replicate each other (`iredapi_ldap.devslapd.replication`), and what the tests ask of it."""

import time
from dataclasses import dataclass

from iredapi_ldap.devslapd import SeedAccounts
from iredapi_ldap.devslapd.replication import ReplicatingSlapd, server_id_of_csn
from iredapi_ldap.directory import ADAPTERS

REPLICATION_BOUND_SECONDS = 2.0  # an idle pair replicates in milliseconds


@dataclass
class Topology:
    """Started providers (the first seeded) and the seeded accounts."""

    providers: list[ReplicatingSlapd]
    accounts: SeedAccounts

    @property
    def uris(self):
        """LDAP_URI of a host that lists every provider, in their order."""
        return tuple(provider.ldap_uri for provider in self.providers)

    def directory(self, provider, ldap_client="ldap3"):
        """A directory adapter bound as cn=vmailadmin to `provider` alone."""
        return ADAPTERS[ldap_client]((provider.ldap_uri,), self.accounts.vmailadmin_dn,
                                     self.accounts.vmailadmin_password,
                                     connect_timeout=2, timeout=10)

    def entry_csn(self, provider, dn):
        """The entryCSN of `dn` on `provider`, or None when it has no such entry."""
        entry = self.directory(provider).get(dn, ["entryCSN"])
        return entry.first("entryCSN") if entry else None

    def wait_for(self, provider, dn, csn=None, timeout=REPLICATION_BOUND_SECONDS):
        """Seconds until `provider` holds `dn` (with entryCSN `csn`, when given); raises
        AssertionError after `timeout`."""
        directory = self.directory(provider)
        start = time.monotonic()
        while True:
            entry = directory.get(dn, ["entryCSN"])
            if entry is not None and csn in (None, entry.first("entryCSN")):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{dn} not on {provider.ldap_uri} after {timeout} s")
            time.sleep(0.002)


def writer_of(csn):
    """The server ID of the provider that accepted the write stamped `csn`."""
    return server_id_of_csn(csn)


def signal_provider(provider, signum):
    """Send `signum` to the provider's slapd (SIGKILL: a crash, SIGSTOP: hung, SIGCONT);
    after SIGKILL, waits for it to end (`resume()` starts it again on its data), after
    SIGSTOP until it is stopped."""
    import os
    import signal
    pid = provider._proc.pid  # slapdtest keeps the process to itself
    os.kill(pid, signum)
    if signum == signal.SIGKILL:
        provider.wait()
    while signum == signal.SIGSTOP and _state(pid) != "T":
        time.sleep(0.001)  # stopped once the kernel says so, not when the signal is sent


def _state(pid):
    """A process's state letter in /proc (`T`: stopped)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0]
