"""What Dovecot recorded of mailboxes in iRedAdmin's database (`used_quota`, `last_login`),
read for many addresses with one statement: a listing page costs one query, not one per
user."""

from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Integer,
    bindparam,
    cast,
    delete,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from .base import MailboxUsage
from .engine import Databases
from .tables import last_login, used_quota

PROTOCOLS = ("imap", "pop3", "lda")


def _statement() -> CompoundSelect:
    """One row per table that knows an address of the expanding parameter `addresses`:
    used_quota's with NULL login times, last_login's with NULL sizes (a UNION ALL: one
    round trip, and no FULL JOIN, which MariaDB lacks)."""
    addresses: BindParameter[str] = bindparam("addresses", expanding=True)
    quota = select(used_quota.c.username, used_quota.c.bytes, used_quota.c.messages,
                   *(cast(null(), Integer).label(p) for p in PROTOCOLS)) \
        .where(used_quota.c.username.in_(addresses))
    logins = select(last_login.c.username, cast(null(), BigInteger).label("bytes"),
                    cast(null(), BigInteger).label("messages"),
                    *(last_login.c[p] for p in PROTOCOLS)) \
        .where(last_login.c.username.in_(addresses))
    return union_all(quota, logins)


# Built once: a GET of a user reads it with every request (about half the statement's CPU
# went to building it again, measured).
_USAGE = _statement()


def mailbox_usage(databases: Databases, addresses: Sequence[str]) -> dict[str, MailboxUsage]:
    """{address: its MailboxUsage} for those of `addresses` (lower case, as Dovecot records
    them) that either table knows; one statement."""
    if not addresses:
        return {}

    def read(conn: Connection) -> dict[str, MailboxUsage]:
        sizes: dict[str, tuple[int, int]] = {}
        logins: dict[str, dict[str, int | None]] = {}
        for row in conn.execute(_USAGE, {"addresses": sorted(set(addresses))}):
            name = str(row.username).lower()
            if row.bytes is not None:
                sizes[name] = (int(row.bytes), int(row.messages or 0))
            else:
                logins[name] = {p: None if row[i + 3] is None else int(row[i + 3])
                                for i, p in enumerate(PROTOCOLS)}
        return {name: MailboxUsage(*sizes.get(name, (0, 0)), logins.get(name))
                for name in sizes.keys() | logins.keys()}
    return databases.read("iredadmin", read)


def forget(conn: Connection, addresses: Sequence[str]) -> None:
    """Drop what Dovecot recorded of these accounts (`user@domain`, or `@domain` for every
    mailbox of a domain), as iRedAdmin drops `used_quota` rows with the account: a mailbox
    created later under the address starts with nothing of the old one's."""
    users = [a for a in addresses if not a.startswith("@")]
    domains = [a for a in addresses if a.startswith("@")]
    for table in (used_quota, last_login):
        # By the address's end too: `domain` is filled by a trigger iRedMail installs on
        # MariaDB, not by Dovecot itself.
        conn.execute(delete(table).where(or_(
            table.c.username.in_(users), table.c.domain.in_([d[1:] for d in domains]),
            *(table.c.username.endswith(d, autoescape=True) for d in domains))))


def move(conn: Connection, old: str, new: str) -> None:
    """Record a renamed mailbox's usage and logins under its new address (rows a mailbox
    deleted earlier left there dropped first); Dovecot goes on updating them there."""
    for table in (used_quota, last_login):
        if conn.execute(select(table.c.username).where(table.c.username == old)).first():
            conn.execute(delete(table).where(table.c.username == new))
            conn.execute(update(table).where(table.c.username == old).values(
                username=new, domain=new.rsplit("@", 1)[1]))
