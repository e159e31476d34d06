"""Throwaway slapd providers that replicate each other, for the tests of several API hosts.

Each provider is an `IRedMailSlapd` that also loads the `syncprov` overlay (it serves the
changes) and is a `syncrepl` consumer of every other provider (it takes theirs), with
`olcMultiProvider` set and a server ID of its own: OpenLDAP's "mirror mode" / multi-provider
replication as its admin guide describes it (section 18.3.4). The consumers bind as a
replication account, `cn=replicator,<suffix>`, that may read the whole tree (passwords
included) and nothing more.

The server ID is the third field of every `entryCSN` (`<time>#<count>#<sid>#<mod>`, the sid
in three hex digits): it names the provider that accepted the write.
"""

import contextlib
import time
from collections.abc import Iterator

from passlib.hash import ldap_salted_sha1

from .slapd import IRedMailSlapd, SeedAccounts, random_password

REPLICATOR_RDN = "cn=replicator"

# Before iRedMail's own rules: the replication account reads everything, anybody else goes
# on to those rules (`break`).
REPLICATION_ACCESS = """dn: olcDatabase={1}mdb,cn=config
changetype: modify
add: olcAccess
olcAccess: {0}to *
  by dn.exact="%(replicator)s" read
  by * break
-
add: olcLimits
olcLimits: dn.exact="%(replicator)s" size=unlimited time=unlimited
"""

SYNCPROV_CONFIG = """dn: olcOverlay=syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: syncprov
olcSpCheckpoint: 1 1
olcSpSessionlog: 1000
"""

# `retry="1 +"`: a provider that is down (or has no replication account yet) is asked again
# every second, for ever; `timeout`/`network-timeout` keep a dead peer from holding it up.
SYNCREPL_LINE = (
    'olcSyncrepl: {%(index)d}rid=%(rid)03d provider=%(provider)s bindmethod=simple '
    'binddn="%(replicator)s" credentials="%(password)s" searchbase="%(suffix)s" '
    'type=refreshAndPersist retry="1 +" timeout=2 network-timeout=2 '
    'schemachecking=on\n')


class ReplicatingSlapd(IRedMailSlapd):
    """An `IRedMailSlapd` that is a provider (syncprov) and a consumer of `peers`.

    Set `peers` (the LDAP URIs of the other providers) and `replicator_password` before
    `start()`. Stop it with `terminate()` and start it again on the same data with `resume()`
    (slapdtest's), e.g. to let a write reach one provider only.
    """

    peers: tuple[str, ...] = ()
    replicator_password = ""

    @property
    def replicator_dn(self) -> str:
        return f"{REPLICATOR_RDN},{self.suffix}"

    def gen_config(self) -> str:
        return super().gen_config() + "olcModuleLoad: syncprov\n"

    def _write_config(self) -> None:
        super()._write_config()
        values = {"replicator": self.replicator_dn, "suffix": self.suffix,
                  "password": self.replicator_password}
        self.slapmodify(REPLICATION_ACCESS % values)
        self.slapadd(SYNCPROV_CONFIG, ["-n0"])
        lines = "".join(SYNCREPL_LINE % {**values, "index": index, "rid": index + 1,
                                          "provider": peer}
                        for index, peer in enumerate(self.peers))
        self.slapmodify(f"dn: olcDatabase={{1}}mdb,cn=config\nchangetype: modify\n"
                        f"add: olcSyncrepl\n{lines}-\nadd: olcMultiProvider\n"
                        f"olcMultiProvider: TRUE\n")

    def slapmodify(self, ldif: str) -> None:
        """Apply an LDIF of changes to the (offline) configuration database."""
        self._cli_popen(self._find_command("slapmodify", in_sbin=True),
                        extra_args=["-n0"], stdin_data=ldif.encode())

    def replicator_ldif(self) -> str:
        """The replication account's entry."""
        return (f"dn: {self.replicator_dn}\nobjectClass: person\nobjectClass: top\n"
                f"cn: replicator\nsn: replicator\n"
                f"userPassword: {ldap_salted_sha1.hash(self.replicator_password)}\n")


def server_id_of_csn(csn: str) -> int:
    """The server ID inside a CSN (`20261129105500.123456Z#000000#001#000000`)."""
    return int(csn.split("#")[2], 16)


@contextlib.contextmanager
def replicating_providers(count: int = 2, first_domain: str = "example.com",
                          admin_local: str = "postmaster",
                          settle_seconds: float = 30) -> Iterator[
                              tuple[list[ReplicatingSlapd], SeedAccounts]]:
    """`count` started providers replicating each other, the first seeded (with the
    replication account); yields them and the seeded accounts once every provider holds
    the seed. Stops them all on leaving."""
    password = random_password()
    providers = [ReplicatingSlapd() for _ in range(count)]
    server_ids = {provider.server_id for provider in providers}
    if len(server_ids) < count or 0 in server_ids:  # port % 4096: unlikely, not impossible
        for number, provider in enumerate(providers, 1):
            provider.server_id = number
    for provider in providers:
        provider.replicator_password = password
        provider.peers = tuple(other.ldap_uri for other in providers if other is not provider)
    try:
        for provider in providers:
            provider.start()
        first = providers[0]
        ldif, accounts = first.base_ldif(first_domain, admin_local)
        first.ldapadd(ldif + "\n" + first.replicator_ldif())
        deadline = time.monotonic() + settle_seconds
        for provider in providers[1:]:
            _await_entry(provider, accounts.vmailadmin_dn, deadline)
        # The others' consumers of this provider retry every second until its replication
        # account arrived: a marker written here and seen everywhere says they are in.
        for provider in providers[1:]:
            marker = f"cn=settled-{provider.server_id},{first.suffix}"
            provider.ldapadd(f"dn: {marker}\nobjectClass: organizationalRole\n"
                             f"cn: settled-{provider.server_id}\n")
            for other in providers:
                _await_entry(other, marker, deadline)
            provider.ldapdelete(marker)
        yield providers, accounts
    finally:
        for provider in providers:
            provider.stop()


def _await_entry(provider: ReplicatingSlapd, dn: str, deadline: float) -> None:
    while not _holds(provider, dn):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{provider.ldap_uri} did not receive {dn}")
        time.sleep(0.05)


def _holds(provider: ReplicatingSlapd, dn: str) -> bool:
    """Whether `dn` is on `provider` (ldapsearch exits with noSuchObject when not)."""
    try:
        provider._cli_popen(provider._find_command("ldapsearch"),
                            extra_args=["-b", dn, "-s", "base", "1.1"])
    except RuntimeError:
        return False
    return True
