"""What every worker and host must agree on about logins, kept in iRedAdmin's database:
failed logins in its admin log (`log`, as iRedAdmin itself records them: event `login`,
loglevel `error`, the username as `admin`, the client's address as `ip`, the time in UTC),
and ended sessions in its key-value store (`tracking`, until the session would have
expired)."""

import datetime
import hashlib

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from .tables import log, tracking

ENDED_PREFIX = "iredapi-ldap:ended:"
FAILED, SUCCEEDED = "[API] Login failed.", "[API] Admin login success"


def _utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


class LoginRecords:
    """Failed logins and ended sessions (`databases`: an `engine.Databases`)."""

    def __init__(self, databases):
        self._databases = databases

    def record_failure(self, ip, username, now):
        """One failed login in iRedAdmin's admin log (`now`: epoch seconds); its row id."""
        row = {"admin": username[:255], "ip": (ip or "")[:40], "event": "login",
               "timestamp": _utc(now), "loglevel": "error", "msg": FAILED}
        return self._databases.write("iredadmin", lambda conn: conn.execute(
            insert(log).values(row)).inserted_primary_key[0])

    def mark_success(self, row_id):
        """The login of a row `record_failure` wrote succeeded (as iRedAdmin logs it)."""
        self._databases.write("iredadmin", lambda conn: conn.execute(
            update(log).where(log.c.id == row_id).values(loglevel="info", msg=SUCCEEDED)))

    def forget_failure(self, row_id):
        """Take back a row `record_failure` wrote: no password was checked."""
        self._databases.write("iredadmin", lambda conn: conn.execute(
            delete(log).where(log.c.id == row_id)))

    def failures(self, network, spellings, username, since):
        """(failed logins from `network`, failed logins of `username` from one of the
        address `spellings`) since `since` (epoch seconds). `network` is an address, or a
        prefix ending in ':' that every address of an IPv6 network starts with."""
        def read(conn):
            recent = and_(log.c.event == "login", log.c.loglevel == "error",
                          log.c.timestamp >= _utc(since))
            where = (log.c.ip.startswith(network, autoescape=True) if network.endswith(":")
                     else log.c.ip == network[:40])
            by_network = conn.execute(select(func.count()).select_from(log).where(
                and_(recent, where))).scalar()
            by_pair = conn.execute(select(func.count()).select_from(log).where(and_(
                recent, log.c.ip.in_([s[:40] for s in spellings]),
                log.c.admin == username[:255]))).scalar()
            return by_network, by_pair
        return self._databases.read("iredadmin", read)

    def end_session(self, session_id, expires, now):
        """Remember that the session `session_id` was logged out, until it would have
        expired anyway; and forget the ended sessions that have expired since."""
        def write(conn):
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

    def has_ended(self, session_id):
        """Whether the session `session_id` was logged out."""
        key = ENDED_PREFIX + _digest(session_id)
        return self._databases.read("iredadmin", lambda conn: conn.execute(
            select(tracking.c.id).where(tracking.c.k == key)).first() is not None)


def _digest(session_id):
    return hashlib.sha256(session_id.encode()).hexdigest()
