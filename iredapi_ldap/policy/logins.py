"""What every worker and host must agree on about logins, kept in iRedAdmin's database:
failed logins in its admin log (`log`, as iRedAdmin itself records them: event `login`,
loglevel `error`, the username as `admin`, the client's address as `ip`, the time in UTC),
and ended sessions in its key-value store (`tracking`, until the session would have
expired)."""

import datetime
import hashlib

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy import exc as sa_exc

from .tables import log, tracking

ENDED_PREFIX = "iredapi-ldap:ended:"


def _utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


class LoginRecords:
    """Failed logins and ended sessions (`databases`: an `engine.Databases`)."""

    def __init__(self, databases):
        self._databases = databases

    def record_login(self, ip, username, ok, now):
        """One login attempt in iRedAdmin's admin log (`now`: epoch seconds)."""
        row = {"admin": username[:255], "ip": (ip or "")[:40], "event": "login",
               "timestamp": _utc(now)}
        row.update({"loglevel": "info", "msg": "[API] Admin login success"} if ok else
                   {"loglevel": "error", "msg": "[API] Login failed."})
        self._databases.write("iredadmin", lambda conn: conn.execute(insert(log).values(row)))

    def failures(self, ip, username, since):
        """(failed logins from `ip`, failed logins of `username` from `ip`) since `since`
        (epoch seconds)."""
        def read(conn):
            failed = and_(log.c.event == "login", log.c.loglevel == "error",
                          log.c.ip == (ip or "")[:40], log.c.timestamp >= _utc(since))
            by_ip = conn.execute(select(func.count()).select_from(log).where(failed)).scalar()
            by_pair = conn.execute(select(func.count()).select_from(log).where(
                and_(failed, log.c.admin == username[:255]))).scalar()
            return by_ip, by_pair
        return self._databases.read("iredadmin", read)

    def end_session(self, token, expires, now):
        """Remember that `token` was logged out, until it would have expired anyway; and
        forget the ended sessions that have expired since."""
        def write(conn):
            conn.execute(delete(tracking).where(and_(
                tracking.c.k.startswith(ENDED_PREFIX),
                tracking.c.v < f"{int(now):012d}")))
            key = ENDED_PREFIX + _digest(token)
            if conn.execute(select(tracking.c.id).where(tracking.c.k == key)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(tracking).values(k=key, v=f"{int(expires):012d}"))
                except sa_exc.IntegrityError:
                    pass  # a racing logout of the same session recorded it
        self._databases.write("iredadmin", write)

    def has_ended(self, token):
        """Whether `token` was logged out."""
        key = ENDED_PREFIX + _digest(token)
        return self._databases.read("iredadmin", lambda conn: conn.execute(
            select(tracking.c.id).where(tracking.c.k == key)).first() is not None)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()
