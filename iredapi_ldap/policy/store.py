"""The policy store on SQLAlchemy Core: Amavisd's, iRedAPD's and iRedAdmin's tables.

Every write runs in one transaction, so a failure leaves nothing half-done; errors are
translated, and deadlocks retried, in `engine.Databases`.
"""

import datetime
import fcntl
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import (
    ColumnElement,
    MetaData,
    Table,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine import Row as SqlRow

from . import accounts, kept, usage, wblists
from .base import MailboxUsage, Row
from .engine import Databases, IntegrityRace, inserted_id, make_engine
from .tables import (
    DATABASES,
    deleted_mailboxes,
    greylisting,
    greylisting_whitelist_domain_spf,
    greylisting_whitelist_domains,
    greylisting_whitelists,
    outbound_wblist,
    policy,
    throttle,
    throttle_tracking,
    users,
    wblist,
)

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

WHOLE_ACCOUNT = "@."  # greylisting rows with this sender are the account's on/off switch


class SqlPolicyStore:
    """Policy data in three SQL databases, named as the *_DB_URL settings name them."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        """`urls`: {'amavisd': url, 'iredapd': url, 'iredadmin': url}."""
        self.databases = Databases(urls)
        self._write = self.databases.write
        self._read = self.databases.read

    @classmethod
    def from_settings(cls, settings: "Settings") -> "SqlPolicyStore":
        return cls({name: settings.sql_url(name) for name in DATABASES})

    def create_missing_tables(self) -> dict[str, list[str]]:
        """Create the tables that do not exist yet; returns {database: [table, ...]}."""
        created: dict[str, list[str]] = {}
        for name, metadata in DATABASES.items():
            engine = self.databases.engines[name]

            def create(conn: Connection, engine: Engine = engine,
                       metadata: MetaData = metadata) -> list[str]:
                existing = set(engine.dialect.get_table_names(conn))
                metadata.create_all(conn, checkfirst=True)
                return sorted(set(metadata.tables) - existing)
            created[name] = self.databases.write(name, create)
        return created

    # -- Amavisd spam policy ------------------------------------------------------------

    def get_spam_policy(self, account: str) -> Optional[Row]:
        """The policy columns of `account` (None for NULL), or None when it has none."""
        def read(conn: Connection) -> Optional[Row]:
            row = conn.execute(select(policy).where(policy.c.policy_name == account)).first()
            return _row_dict(row, exclude=("id", "policy_name"))
        return self._read("amavisd", read)

    def put_spam_policy(self, account: str, columns: Mapping[str, Any]) -> None:
        """Set these policy columns of `account`, creating its policy and users rows."""
        def write(conn: Connection) -> None:
            policy_id = _upsert(conn, policy, {"policy_name": account}, columns)
            _upsert(conn, users, {"email": account},
                    {"policy_id": policy_id, "priority": accounts.amavisd_priority(account)})
        self._write("amavisd", write)

    def delete_spam_policy(self, account: str) -> bool:
        """Remove the account's policy row, and its users row unless its white/blacklists
        still need it (they hang on users.id); whether there were any."""
        def write(conn: Connection) -> bool:
            gone = conn.execute(delete(policy).where(policy.c.policy_name == account)).rowcount
            user_id = wblists.lock_user(conn, account)
            if user_id is not None:
                conn.execute(update(users).where(users.c.id == user_id).values(policy_id=0))
                gone += wblists.drop_idle_user(conn, user_id)
            return gone > 0
        return self._write("amavisd", write)

    # -- Amavisd white/blacklists (`direction`: inbound or outbound; `wb`: W or B) ------

    def wblist(self, account: str, direction: str, wb: str) -> list[str]:
        """The addresses on the account's list, sorted."""
        return self._read("amavisd", lambda conn: wblists.listed(conn, account, direction, wb))

    def add_to_wblist(self, account: str, direction: str, wb: str,
                      addresses: Sequence[str]) -> None:
        """Put `addresses` (valid, lower-cased) on the account's list, and off the other
        list of the same direction."""
        self._write("amavisd", lambda conn: wblists.add(conn, account, direction, wb,
                                                          addresses))

    def remove_from_wblist(self, account: str, direction: str, wb: str,
                           addresses: Optional[Sequence[str]] = None) -> None:
        """Take `addresses` (None: all of them) off the account's list."""
        self._write("amavisd", lambda conn: wblists.remove(conn, account, direction, wb,
                                                             addresses))

    # -- iRedAPD throttling -------------------------------------------------------------

    def get_throttle(self, account: str, kind: str) -> Optional[Row]:
        def read(conn: Connection) -> Optional[Row]:
            row = conn.execute(select(throttle).where(
                and_(throttle.c.account == account, throttle.c.kind == kind))).first()
            return _row_dict(row, exclude=("id", "account", "kind"))
        return self._read("iredapd", read)

    def set_throttle(self, account: str, kind: str, columns: Mapping[str, Any]) -> None:
        """Set these columns of the account's throttle of `kind` (inbound/outbound)."""
        values = {**columns, "priority": accounts.priority(account)}
        self._write("iredapd", lambda conn: _upsert(
            conn, throttle, {"account": account, "kind": kind}, values))

    def delete_throttle(self, account: str, kind: str) -> bool:
        def write(conn: Connection) -> bool:
            found = conn.execute(select(throttle.c.id).where(
                and_(throttle.c.account == account, throttle.c.kind == kind))).scalar()
            if found is None:
                return False
            # Production schemas reference throttle.id from throttle_tracking.tid.
            conn.execute(delete(throttle_tracking).where(throttle_tracking.c.tid == found))
            conn.execute(delete(throttle).where(throttle.c.id == found))
            return True
        return self._write("iredapd", write)

    # -- iRedAPD greylisting ------------------------------------------------------------

    def greylisting_settings(self) -> list[Row]:
        """Every greylisting row: [{'account', 'sender', 'active', 'comment'}, ...]."""
        def read(conn: Connection) -> list[Row]:
            rows = conn.execute(select(greylisting).order_by(
                greylisting.c.priority.desc(), greylisting.c.account, greylisting.c.sender))
            return [_columns(row, exclude=("id", "priority", "sender_priority"))
                    for row in rows]
        return self._read("iredapd", read)

    def get_greylisting(self, account: str) -> Optional[bool]:
        """True/False for an explicit setting of `account`, None when it inherits."""
        def read(conn: Connection) -> Any:
            return conn.execute(select(greylisting.c.active).where(and_(
                greylisting.c.account == account,
                greylisting.c.sender == WHOLE_ACCOUNT))).scalar()
        active = self._read("iredapd", read)
        return None if active is None else bool(active)

    def set_greylisting(self, account: str, active: bool) -> None:
        values = {"active": 1 if active else 0, "priority": accounts.priority(account),
                  "sender_priority": accounts.priority(WHOLE_ACCOUNT)}
        self._write("iredapd", lambda conn: _upsert(
            conn, greylisting, {"account": account, "sender": WHOLE_ACCOUNT}, values))

    def delete_greylisting(self, account: str) -> bool:
        def write(conn: Connection) -> bool:
            return conn.execute(delete(greylisting).where(and_(
                greylisting.c.account == account,
                greylisting.c.sender == WHOLE_ACCOUNT))).rowcount > 0
        return self._write("iredapd", write)

    def greylisting_whitelists(self, account: str) -> list[str]:
        return self._read("iredapd", lambda conn: _values(
            conn, greylisting_whitelists, "sender", {"account": account}))

    def update_greylisting_whitelists(self, account: str,
                                      replace: Optional[Iterable[str]] = None,
                                      add: Iterable[str] = (),
                                      remove: Iterable[str] = ()) -> list[str]:
        """Replace, or add to and remove from, the account's whitelisted senders."""
        return self._write("iredapd", lambda conn: _update_set(
            conn, greylisting_whitelists, "sender", {"account": account},
            replace, add, remove))

    def whitelist_spf_domains(self) -> list[str]:
        return self._read("iredapd", lambda conn: _values(
            conn, greylisting_whitelist_domains, "domain", {}))

    def update_whitelist_spf_domains(self, replace: Optional[Iterable[str]] = None,
                                     add: Iterable[str] = (),
                                     remove: Iterable[str] = ()) -> list[str]:
        return self._write("iredapd", lambda conn: _update_set(
            conn, greylisting_whitelist_domains, "domain", {}, replace, add, remove))

    # -- accounts that go away or change their address ---------------------------------

    def forget_accounts(self, addresses: Iterable[str]) -> None:
        """Remove every policy row of these accounts (`user@domain`, or `@domain` for a
        domain): spam policy, white/blacklists, throttles and their counters, greylisting
        and its whitelists, and what Dovecot recorded of its mailbox (used quota, last
        logins), so that an account created later under one of the addresses inherits none
        of it."""
        keys = sorted({str(a).lower() for a in addresses})
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            self._write("amavisd", functools.partial(_forget_amavisd, addresses=batch))
            self._write("iredapd", functools.partial(_forget_iredapd, addresses=batch))
            self._write("iredadmin", functools.partial(usage.forget, addresses=batch))

    def rename_account(self, old: str, new: str) -> None:
        """Move every policy row of `old` to `new` (a renamed account keeps its settings;
        its white/blacklists hang on its users row, which keeps its id);
        rows an account deleted before left under `new` are dropped first. Each database
        moves in one transaction, and one with nothing left under `old` has moved already:
        a move an outage cut short (one database moved, the other not) is finished by
        running it again. Only one request at a time may run it for an account (the
        intents of services/completions.py see to that)."""
        old, new = old.lower(), new.lower()
        self._write("amavisd", lambda conn: _move_amavisd(conn, old, new))
        self._write("iredapd", lambda conn: _move_iredapd(conn, old, new))
        self._write("iredadmin", lambda conn: usage.move(conn, old, new))

    # -- iRedAdmin deleted mailboxes ----------------------------------------------------

    def record_deleted_mailboxes(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Insert deleted_mailboxes rows: dicts with username, domain, maildir, admin,
        delete_date (a date, or None to keep the mailbox forever)."""
        rows = list(records)
        if rows:
            self._write("iredadmin", lambda conn: conn.execute(
                insert(deleted_mailboxes), rows))

    def due_mailboxes(self, today: datetime.date) -> list[Row]:
        """deleted_mailboxes rows whose purge date has come (kept-forever rows never are)."""
        def read(conn: Connection) -> list[Row]:
            rows = conn.execute(select(deleted_mailboxes).where(and_(
                deleted_mailboxes.c.delete_date.is_not(None),
                deleted_mailboxes.c.delete_date <= today)).order_by(deleted_mailboxes.c.id))
            return [dict(row._mapping) for row in rows]
        return self._read("iredadmin", read)

    # -- what Dovecot records of mailboxes -------------------------------------------------

    def mailbox_usage(self, addresses: Sequence[str]) -> dict[str, MailboxUsage]:
        return usage.mailbox_usage(self.databases, addresses)

    def forget_deleted_mailbox(self, row_id: int) -> None:
        self._write("iredadmin", lambda conn: conn.execute(
            delete(deleted_mailboxes).where(deleted_mailboxes.c.id == row_id)))

    def kept_mailbox_near(self, path: str) -> Optional[Row]:
        """A deleted_mailboxes row whose mailbox is `path`, lies above it or inside it
        (`path` with a trailing `/`), or None: a kept mailbox must not become a new
        account's (policy/kept.py)."""
        values = kept.near_values(path)
        return self._read("iredadmin", lambda conn: _row_dict(
            conn.execute(_KEPT_NEAR, values).first()))

    def deleted_mailboxes(self) -> list[Row]:
        def read(conn: Connection) -> list[Row]:
            rows = conn.execute(select(deleted_mailboxes).order_by(deleted_mailboxes.c.id))
            return [dict(row._mapping) for row in rows]
        return self._read("iredadmin", read)


_KEPT_NEAR = select(deleted_mailboxes).where(kept.NEAR).limit(1)

# iRedAPD tables whose `account` column names the account a row belongs to.
_IREDAPD_ACCOUNT_TABLES = (throttle_tracking, throttle, greylisting, greylisting_whitelists,
                           greylisting_whitelist_domain_spf)
_BATCH = 500  # addresses per statement: well under every database's parameter limit


def _move_amavisd(conn: Connection, old: str, new: str) -> None:
    held = conn.execute(select(users.c.id).where(users.c.email == old).union_all(
        select(policy.c.id).where(policy.c.policy_name == old))).first()
    if held is None:
        return  # nothing to move, or moved already
    _forget_amavisd(conn, [new])
    conn.execute(update(users).where(users.c.email == old).values(email=new))
    conn.execute(update(policy).where(policy.c.policy_name == old).values(policy_name=new))


def _move_iredapd(conn: Connection, old: str, new: str) -> None:
    if not any(conn.execute(select(table.c.id).where(table.c.account == old)).first()
               for table in _IREDAPD_ACCOUNT_TABLES):
        return  # nothing to move, or moved already
    _forget_iredapd(conn, [new])
    for table in _IREDAPD_ACCOUNT_TABLES:
        conn.execute(update(table).where(table.c.account == old).values(account=new))


def _forget_amavisd(conn: Connection, addresses: Sequence[str]) -> None:
    # wblist.rid and outbound_wblist.sid name the local account (users.id). The rows are
    # locked first, as list writes lock them (policy/wblists.py), so that no list row is
    # added to a users row going away.
    ids = list(conn.execute(select(users.c.id).where(users.c.email.in_(addresses))
                            .with_for_update()).scalars())
    if ids:
        conn.execute(delete(wblist).where(wblist.c.rid.in_(ids)))
        conn.execute(delete(outbound_wblist).where(outbound_wblist.c.sid.in_(ids)))
        conn.execute(delete(users).where(users.c.id.in_(ids)))
    conn.execute(delete(policy).where(policy.c.policy_name.in_(addresses)))


def _forget_iredapd(conn: Connection, addresses: Sequence[str]) -> None:
    ids = select(throttle.c.id).where(throttle.c.account.in_(addresses)).scalar_subquery()
    conn.execute(delete(throttle_tracking).where(throttle_tracking.c.tid.in_(ids)))
    for table in _IREDAPD_ACCOUNT_TABLES:
        conn.execute(delete(table).where(table.c.account.in_(addresses)))


def _row_dict(row: Optional[SqlRow[Any]], exclude: Sequence[str] = ()) -> Optional[Row]:
    return None if row is None else _columns(row, exclude)


def _columns(row: SqlRow[Any], exclude: Sequence[str] = ()) -> Row:
    return {key: value for key, value in row._mapping.items() if key not in exclude}


def _where(table: Table, keys: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[name] == value for name, value in keys.items()))


def _upsert(conn: Connection, table: Table, keys: Mapping[str, Any],
            values: Mapping[str, Any]) -> Any:
    """Update the row identified by `keys`, or insert it; returns its id."""
    found = conn.execute(select(table.c.id).where(_where(table, keys))).scalar()
    if found is not None:
        if values:
            conn.execute(update(table).where(table.c.id == found).values(**values))
        return found
    try:
        with conn.begin_nested():
            result = conn.execute(insert(table).values(**keys, **values))
    except sa_exc.IntegrityError:
        raise IntegrityRace() from None
    return inserted_id(result)


def _values(conn: Connection, table: Table, column: str, keys: Mapping[str, Any]) -> list[Any]:
    query = select(table.c[column])
    if keys:
        query = query.where(_where(table, keys))
    return sorted(conn.execute(query).scalars())


def _update_set(conn: Connection, table: Table, column: str, keys: Mapping[str, Any],
                replace: Optional[Iterable[str]], add: Iterable[str],
                remove: Iterable[str]) -> list[Any]:
    """Make the set of `column` values of the rows with `keys` follow replace/add/remove.

    Returns the resulting set, sorted.
    """
    current = set(_values(conn, table, column, keys))
    wanted = set(replace) if replace is not None else (current | set(add)) - set(remove)
    gone = current - wanted
    if gone:
        conn.execute(delete(table).where(and_(_where(table, keys) if keys else True,
                                              table.c[column].in_(sorted(gone)))))
    for value in sorted(wanted - current):
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**keys, **{column: value}))
        except sa_exc.IntegrityError:
            raise IntegrityRace() from None
    return sorted(wanted)


def prepare_embedded_databases(settings: "Settings") -> None:
    """Create the tables of the embedded SQLite databases (the *_DB_URL settings left unset).

    Databases configured by URL are never altered here: `iredapi-ldap db init` does that.
    A lock file keeps concurrent workers from racing on the first start.
    """
    embedded = {name: settings.sql_url(name) for name in DATABASES
                if not getattr(settings, f"{name}_db_url")}
    if not embedded:
        return
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".db-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name, url in embedded.items():
            engine = make_engine(url)
            DATABASES[name].create_all(engine, checkfirst=True)
            engine.dispose()
