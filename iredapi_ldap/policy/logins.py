"""What every worker and host must agree on about logins, kept in iRedAdmin's database:
failed logins in its admin log (`log`, as iRedAdmin itself records them: event `login`,
loglevel `error`, the username as `admin`, the client's address as `ip`, the time in UTC),
and ended sessions in its key-value store (`tracking`, until the session would have
expired)."""

import datetime
import hashlib
from collections.abc import Sequence
from typing import Optional, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from .engine import Databases, inserted_id
from .tables import log, tracking

ENDED_PREFIX = "iredapi-ldap:ended:"
FAILED, SUCCEEDED = "[API] Login failed.", "[API] Admin login success"


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


def _failures_since(ip_matches: ColumnElement[bool]) -> Select[tuple[int, int]]:
    """(failed logins whose ip `ip_matches`, those of them of one username from one of two
    address spellings) since a time: one statement, built once."""
    pair = and_(log.c.ip.in_([bindparam("spelling"), bindparam("other_spelling")]),
                log.c.admin == bindparam("username"))
    return (select(func.count(), func.coalesce(func.sum(case((pair, 1), else_=0)), 0))
            .select_from(log)
            .where(and_(log.c.event == "login", log.c.loglevel == "error",
                        log.c.timestamp >= bindparam("since"), ip_matches)))


# Built once: a login runs them all, and building SQLAlchemy statements costs more than
# SQLite running them.
_FAILURES_FROM_ADDRESS = _failures_since(log.c.ip == bindparam("network"))
_FAILURES_FROM_NETWORK = _failures_since(log.c.ip.like(bindparam("network")))
_RECORD_FAILURE = insert(log).values(
    admin=bindparam("admin"), ip=bindparam("ip"), timestamp=bindparam("timestamp"),
    event="login", loglevel="error", msg=FAILED)
_MARK_SUCCESS = update(log).where(log.c.id == bindparam("row_id")).values(
    loglevel="info", msg=SUCCEEDED)
_FORGET_FAILURE = delete(log).where(log.c.id == bindparam("row_id"))


class LoginRecords:
    """Failed logins and ended sessions (`databases`: an `engine.Databases`)."""

    def __init__(self, databases: Databases) -> None:
        self._databases = databases

    def record_failure(self, ip: Optional[str], username: str, now: float) -> int:
        """One failed login in iRedAdmin's admin log (`now`: epoch seconds); its row id."""
        values = {"admin": username[:255], "ip": (ip or "")[:40], "timestamp": _utc(now)}
        return self._databases.write("iredadmin", lambda conn: inserted_id(conn.execute(
            _RECORD_FAILURE, values)))

    def mark_success(self, row_id: int) -> None:
        """The login of a row `record_failure` wrote succeeded (as iRedAdmin logs it)."""
        self._databases.write("iredadmin", lambda conn: conn.execute(
            _MARK_SUCCESS, {"row_id": row_id}))

    def forget_failure(self, row_id: int) -> None:
        """Take back a row `record_failure` wrote: no password was checked."""
        self._databases.write("iredadmin", lambda conn: conn.execute(
            _FORGET_FAILURE, {"row_id": row_id}))

    def failures(self, network: str, spellings: Sequence[str], username: str,
                 since: float) -> tuple[int, int]:
        """(failed logins from `network`, failed logins of `username` from one of the
        address `spellings` (one or two)) since `since` (epoch seconds). `network` is an
        address, or a prefix ending in ':' that every address of an IPv6 network starts
        with (hex digits and colons: nothing LIKE would read as a wildcard)."""
        by_prefix = network.endswith(":")
        statement = _FAILURES_FROM_NETWORK if by_prefix else _FAILURES_FROM_ADDRESS
        values = {"network": network + "%" if by_prefix else network[:40],
                  "spelling": spellings[0][:40], "other_spelling": spellings[-1][:40],
                  "username": username[:255], "since": _utc(since)}
        return cast(tuple[int, int], tuple(self._databases.read(
            "iredadmin", lambda conn: conn.execute(statement, values).one())))

    def end_session(self, session_id: str, expires: float, now: float) -> None:
        """Remember that the session `session_id` was logged out, until it would have
        expired anyway; and forget the ended sessions that have expired since."""
        def write(conn: Connection) -> None:
            conn.execute(delete(tracking).where(and_(
                tracking.c.k.startswith(ENDED_PREFIX),
                tracking.c.v < f"{int(now):012d}")))
            key = ENDED_PREFIX + _digest(session_id)
            if conn.execute(select(tracking.c.id).where(tracking.c.k == key)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(tracking).values(k=key, v=f"{int(expires):012d}"))
                except sa_exc.IntegrityError:
                    pass  # a racing logout of the same session recorded it
        self._databases.write("iredadmin", write)

    def has_ended(self, session_id: str) -> bool:
        """Whether the session `session_id` was logged out."""
        key = ENDED_PREFIX + _digest(session_id)
        return self._databases.read("iredadmin", lambda conn: conn.execute(
            select(tracking.c.id).where(tracking.c.k == key)).first() is not None)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
