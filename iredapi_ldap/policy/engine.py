"""The three SQL databases (Amavisd, iRedAPD, iRedAdmin) behind one translation of errors.

Every SQLAlchemy error is translated in `_translated()`: a database that cannot be reached
becomes DATABASE_UNAVAILABLE (503), and the next request after it is back succeeds
(pre-ping). A write whose transaction the server rolled back to break a deadlock, or gave up
waiting for a lock, is not an outage: it is run again, a few times, after short random
pauses.
"""

import contextlib
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.pool import NullPool

from .. import errors, metrics
from ..errors import DatabaseError, DatabaseUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# MariaDB/MySQL: ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT; PostgreSQL: serialization_failure,
# deadlock_detected, lock_not_available. SQLite waits for its lock itself (timeout 30 s).
_MYSQL_TRANSIENT = {1213, 1205}
_POSTGRESQL_TRANSIENT = {"40001", "40P01", "55P03"}
TRANSIENT_ATTEMPTS = 6
MAX_PAUSE = 0.2


class IntegrityRace(Exception):
    """A unique key was taken between our check and our insert: worth one more try."""


class Databases:
    """SQLAlchemy engines by database name ('amavisd', 'iredapd', 'iredadmin')."""

    def __init__(self, urls: Mapping[str, str],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engines = {name: make_engine(url) for name, url in urls.items()}
        # SQLite syncs per connection: lazy commits get connections of their own.
        self._lazy_engines = {name: make_engine(url, synced=False) for name, url in urls.items()
                              if make_url(url).get_backend_name() == "sqlite"}
        self._sleep = sleep

    def write(self, database: str, work: Callable[[Connection], T],
              durable: bool = True) -> T:
        """Run `work(conn)` in a transaction and return its result. Once more if a
        concurrent insert won a race (IntegrityRace), and up to TRANSIENT_ATTEMPTS times
        when the server broke a deadlock or a lock wait.

        `durable=False` (what only a record may use whose loss breaks nothing, such as the
        admin log): the commit does not wait for the disk. What it wrote is seen at once
        and outlives our process; only the machine's (SQLite) or the database server's
        (PostgreSQL: synchronous_commit off, at most 3 x wal_writer_delay) going down
        right after it may lose it. MariaDB/MySQL sync as they are set up for (their
        setting is the server's)."""
        with metrics.sql_operation(database, "write"):
            return self._write(database, work, durable)

    def _write(self, database: str, work: Callable[[Connection], T], durable: bool) -> T:
        engine = self.engines[database] if durable else \
            self._lazy_engines.get(database, self.engines[database])
        races = transient = 0
        while True:
            try:
                with self._translated(), engine.begin() as conn:
                    if not durable and engine.dialect.name == "postgresql":
                        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    return work(conn)
            except IntegrityRace:
                races += 1
                if races == 2:
                    raise errors.ConcurrentUpdate(
                        detail="changed by another request; try again") from None
            except _Transient as exc:
                transient += 1
                if transient == TRANSIENT_ATTEMPTS:
                    log.warning("policy database: still %s after %d tries", exc, transient)
                    raise errors.ConcurrentUpdate(
                        detail="the policy database is busy; try again") from None
                self._sleep(random.uniform(0, MAX_PAUSE * transient / TRANSIENT_ATTEMPTS))

    def read(self, database: str, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` on a connection (no transaction of ours) and return its result."""
        with metrics.sql_operation(database, "read"):
            return self._read(database, work)

    def _read(self, database: str, work: Callable[[Connection], T]) -> T:
        try:
            with self._translated(), self.engines[database].connect() as conn:
                return work(conn)
        except _Transient:
            raise errors.ConcurrentUpdate(detail="the policy database is busy; try again") \
                from None

    def probe(self, database: str, timeout: float) -> None:
        """`SELECT 1` on a new connection of its own (not the pool's), closed again, with
        the driver's connect and read timeouts set to `timeout` seconds where it has them
        (PyMySQL both, psycopg and psycopg2 the connect only, SQLite its lock wait).

        Raises:
            DatabaseUnavailable: it cannot be reached or did not answer (not logged: the
                health check logs only when a database goes down or comes back).
            DatabaseError: it answered with an error.
        """
        url = _read_only_sqlite(self.engines[database].url)
        engine = create_engine(url, poolclass=NullPool, connect_args=_probe_args(url, timeout))
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            log.debug("probe of %s: %s", database, _describe(exc))
            raise DatabaseUnavailable(detail="unreachable") from None
        except sa_exc.SQLAlchemyError as exc:
            log.debug("probe of %s: %s", database, _describe(exc))
            raise DatabaseError(detail="answered with an error") from None
        finally:
            engine.dispose()

    def describe(self, database: str) -> dict[str, str]:
        """What a global admin may see of a database: its name, its kind (`mysql`,
        `postgresql`, `sqlite`) and where it is (host, port and database, or the SQLite
        file), never a user name, password or query option."""
        url = self.engines[database].url
        where = (url.database or "" if url.get_backend_name() == "sqlite" else
                 f"{url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
                 f"/{url.database or ''}")
        return {"name": database, "kind": url.get_backend_name(), "location": where}

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            if _is_transient(exc):
                raise _Transient(_describe(exc)) from None
            log.warning("policy database unavailable: %s", exc.orig or exc)
            raise DatabaseUnavailable(detail="the policy database is unreachable") from None
        except sa_exc.DBAPIError as exc:
            if _is_transient(exc):
                raise _Transient(_describe(exc)) from None
            if exc.connection_invalidated:
                raise DatabaseUnavailable(detail="the policy database is unreachable") \
                    from None
            log.error("policy database error: %s", exc.orig or exc)
            raise DatabaseError(detail="the policy database refused the operation") from None
        except sa_exc.SQLAlchemyError as exc:
            log.error("policy database error: %r", exc)
            raise DatabaseError(detail="the policy database operation failed") from None


class _Transient(Exception):
    """A deadlock or lock wait the server gave up on; the transaction was rolled back."""


def _is_transient(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised while handling, is a deadlock or lock wait
    the server gave up on. (MariaDB rolls the whole transaction back on a deadlock, its
    savepoints with it: a deadlock inside `begin_nested()` surfaces as the failed
    `ROLLBACK TO SAVEPOINT` that followed, error 1305, with the deadlock as its context.)"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_transient_one(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_transient_one(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    code = orig.args[0] if getattr(orig, "args", None) else None
    if isinstance(code, int) and code in _MYSQL_TRANSIENT:
        return True
    return getattr(orig, "sqlstate", None) in _POSTGRESQL_TRANSIENT


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0]


LIKE_ESCAPE = "/"


def like_prefix(text: str) -> str:
    """A LIKE pattern (escape character LIKE_ESCAPE) for the values that start with `text`:
    what SQLAlchemy's `startswith(text, autoescape=True)` matches, as one bound value, so
    that a statement built once serves every `text`."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    return escaped.replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_") + "%"


def inserted_id(result: CursorResult[Any]) -> Any:
    """The primary key of the row a one-row INSERT made."""
    key = result.inserted_primary_key
    if key is None:
        raise TypeError("not the result of a one-row INSERT")
    return key[0]


def _read_only_sqlite(url: URL) -> URL:
    """A SQLite file's URL opened so that a missing file is an error, not made anew (a
    probe must not create an empty database); other URLs as they are."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return url
    path = quote(str(Path(url.database).resolve()))
    return url.set(database=f"file:{path}", query={"mode": "rw", "uri": "true"})


def _probe_args(url: URL, timeout: float) -> dict[str, Any]:
    """The driver's own timeouts, in the names and units each driver takes."""
    driver = url.get_driver_name()
    if url.get_backend_name() == "sqlite":
        return {"timeout": timeout}
    if driver in ("pymysql", "mysqldb"):
        whole = max(1, math.ceil(timeout))  # mysqlclient takes whole seconds
        return {"connect_timeout": whole, "read_timeout": whole, "write_timeout": whole}
    if driver in ("psycopg", "psycopg2"):
        return {"connect_timeout": max(2, math.ceil(timeout))}  # libpq's minimum is 2
    return {}


def make_engine(url: str, synced: bool = True) -> Engine:
    """The engine of a database URL. `synced=False` (SQLite only): its commits are not
    synced to disk (synchronous=NORMAL); a later synced commit or checkpoint syncs them."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _write_ahead_log if synced else _unsynced)
        return engine
    # pre-ping replaces connections the server closed while it was down or idle.
    return create_engine(url, pool_pre_ping=True, pool_recycle=3600)


def _write_ahead_log(dbapi_connection: Any, _record: object) -> None:
    """SQLite in WAL mode: a commit is one sync of the log instead of several of the
    database and its journal (a login writes twice), readers never wait for a writer, and
    a killed process still loses no committed transaction."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _unsynced(dbapi_connection: Any, record: object) -> None:
    """WAL, with commits left to the OS (synchronous=NORMAL): the database stays whole
    after any crash, and a commit outlives a killed process; the machine's crash may
    undo the last ones."""
    _write_ahead_log(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
