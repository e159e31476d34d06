"""Amavisd's white- and blacklists, as Amavisd and iRedAPD read them, on one connection.

An account (`user@domain`, `@domain`, `@.`) is a `users` row; the other party, an address or
an IP network, a `mailaddr` row. Inbound lists are `wblist` rows (rid = the account's
users.id, sid = the sender's mailaddr.id), which Amavisd reads (and iRedAPD's
`amavisd_wblist` plugin, at SMTP time); outbound ones are `outbound_wblist` rows (sid = the
account, rid = the recipient), which only iRedAPD reads. `wb` is `W` or `B`; the primary key
(rid, sid) holds one of them per pair, so listing an address on one list takes it off the
other (the newer call wins, as in iRedAdmin). New rows get Amavisd's priorities
(`accounts.amavisd_priority`); a `users` row made for lists alone links no policy
(policy_id 0, as iRedAdmin makes it), and goes again once it holds neither lists nor a
policy. `mailaddr` rows stay: other accounts may list the same address (iRedAdmin's cron job
removes the unused ones). Nothing but the users row ties list rows to their account (no
foreign keys), so every write that changes or removes it locks it first (`lock_user`).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import Column, Select, Table, and_, delete, exists, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from . import accounts
from .engine import IntegrityRace, inserted_id
from .tables import mailaddr, outbound_wblist, policy, users, wblist

_BATCH = 500  # values per IN (...): well under every database's parameter limit


@dataclass(frozen=True)
class _Side:
    """One direction's table, its column naming the account and the one naming the other
    party."""

    table: Table
    account: "Column[Any]"
    other: "Column[Any]"


SIDES = {"inbound": _Side(wblist, wblist.c.rid, wblist.c.sid),
         "outbound": _Side(outbound_wblist, outbound_wblist.c.sid, outbound_wblist.c.rid)}


def listed(conn: Connection, account: str, direction: str, wb: str) -> list[str]:
    """The addresses on the account's `wb` list of `direction`, sorted."""
    side = SIDES[direction]
    rows = conn.execute(select(mailaddr.c.email)
                        .select_from(side.table.join(mailaddr, side.other == mailaddr.c.id)
                                     .join(users, side.account == users.c.id))
                        .where(and_(users.c.email == account, side.table.c.wb == wb)))
    return sorted(rows.scalars())


def add(conn: Connection, account: str, direction: str, wb: str,
        addresses: Sequence[str]) -> None:
    """Put `addresses` on the account's `wb` list (off the other list, where they were)."""
    if not addresses:
        return
    side = SIDES[direction]
    user_id = _user_id(conn, account, create=True)
    ids = _mailaddr_ids(conn, addresses)
    current: dict[int, str] = {}
    for batch in _batches(sorted(ids.values())):
        current.update(_pairs(conn, select(side.other, side.table.c.wb).where(and_(
            side.account == user_id, side.other.in_(batch)))))
    moved = sorted(i for i, was in current.items() if was != wb)
    for batch in _batches(moved):
        conn.execute(update(side.table).where(and_(side.account == user_id,
                                                   side.other.in_(batch))).values(wb=wb))
    new = [{side.account.name: user_id, side.other.name: i, "wb": wb}
           for i in sorted(set(ids.values()) - set(current))]
    if new:
        _insert(conn, side.table, new)


def remove(conn: Connection, account: str, direction: str, wb: str,
           addresses: Optional[Sequence[str]]) -> None:
    """Take `addresses` (None: every address) off the account's `wb` list of `direction`."""
    side = SIDES[direction]
    user_id = _user_id(conn, account, create=False)
    if user_id is None:
        return
    mine = and_(side.account == user_id, side.table.c.wb == wb)
    if addresses is None:
        conn.execute(delete(side.table).where(mine))
    else:
        for batch in _batches(list(addresses)):
            others = select(mailaddr.c.id).where(mailaddr.c.email.in_(batch))
            conn.execute(delete(side.table).where(and_(mine, side.other.in_(others))))
    drop_idle_user(conn, user_id)


def drop_idle_user(conn: Connection, user_id: int) -> int:
    """Remove the `users` row `user_id` if it holds no list and links no policy; how many
    rows went (0 or 1)."""
    idle = and_(users.c.id == user_id,
                ~exists().where(wblist.c.rid == user_id),
                ~exists().where(outbound_wblist.c.sid == user_id),
                ~exists().where(policy.c.id == users.c.policy_id))
    return conn.execute(delete(users).where(idle)).rowcount


def _user_id(conn: Connection, account: str, create: bool) -> Optional[int]:
    """The account's users.id, locked until the transaction ends (or None, or a new row).

    The lock orders this transaction after, or before, any other that changes or removes
    the row (lists, spam policy, a delete or rename of the account): without it, a write
    could add list rows to a row another one was removing, and leave them pointing at
    nothing (the tables have no foreign keys)."""
    found = lock_user(conn, account)
    if found is not None or not create:
        return found
    row = {"email": account, "policy_id": 0, "priority": accounts.amavisd_priority(account)}
    try:
        with conn.begin_nested():
            return int(inserted_id(conn.execute(insert(users).values(**row))))
    except sa_exc.IntegrityError:
        raise IntegrityRace() from None


def lock_user(conn: Connection, account: str) -> Optional[int]:
    """The account's users.id, its row locked until the transaction ends; None when it has
    none. (SQLite has no row locks: its writers take turns on the whole database.)"""
    return conn.execute(select(users.c.id).where(users.c.email == account)
                        .with_for_update()).scalar()


def _mailaddr_ids(conn: Connection, addresses: Sequence[str]) -> dict[str, int]:
    """{address: mailaddr.id}, adding the rows missing."""
    ids: dict[str, int] = {}
    for batch in _batches(list(addresses)):
        ids.update(_pairs(conn, select(mailaddr.c.email, mailaddr.c.id)
                          .where(mailaddr.c.email.in_(batch))))
    missing = [{"email": a, "priority": accounts.amavisd_priority(a)}
               for a in addresses if a not in ids]
    if missing:
        _insert(conn, mailaddr, missing)
        for batch in _batches([row["email"] for row in missing]):
            ids.update(_pairs(conn, select(mailaddr.c.email, mailaddr.c.id)
                              .where(mailaddr.c.email.in_(batch))))
    return ids


def _pairs(conn: Connection, query: Select[Any]) -> dict[Any, Any]:
    """{first column: second column} of a two-column query."""
    return {first: second for first, second in conn.execute(query)}


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`; a unique key taken meanwhile by a concurrent request is a race that
    the whole transaction tries again (engine.Databases.write)."""
    try:
        with conn.begin_nested():
            for batch in _batches(rows):
                conn.execute(insert(table), batch)
    except sa_exc.IntegrityError:
        raise IntegrityRace() from None


def _batches(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _BATCH):
        yield items[start:start + _BATCH]
