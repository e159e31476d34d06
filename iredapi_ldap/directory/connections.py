"""What both adapters share: one bound connection per worker thread, all of them to one server
of LDAP_URI (the leader, `leader.py`) with failover to the next, the retry rule for reads,
password checks, renames and subtree deletes.

An adapter subclasses `ThreadBoundDirectory` and supplies how to bind, unbind and translate its
library's exceptions; everything else about connections is decided here, once.
"""

import contextlib
import functools
import logging
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Optional, TypeVar
from urllib.parse import urlsplit, urlunsplit

from .. import errors, metrics
from . import windows
from .base import Change, Entry, Scope, Window, WindowResult
from .leader import Leader, WriteHold, holds_everything
from .names import dn_depth, parent_dn

log = logging.getLogger(__name__)

Connection = Any  # the client library's connection object
T = TypeVar("T")

# After slapd declined to sort for good (no sssvlv, no ordering rule), windows are read
# without its sorting for this long before it is asked again (the overlay may be loaded).
SORTING_RETRY_SECONDS = 300.0


def server_address(uri: str) -> str:
    """scheme://host:port of an LDAP URI, without the optional DN, attributes and filter."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


class BindRefused(Exception):
    """The server answered a bind with invalidCredentials."""


class ThreadBoundDirectory:
    """Connection handling of a `Directory` adapter, bound as the API's own account.

    Subclasses implement `_bind(uri, user, password)` (a bound connection, `BindRefused` on
    wrong credentials, any of `_unreachable` when the server cannot be used), `_unbind(conn)`,
    `_socket(conn)` (its socket, or None), `_delete_entry(conn, dn, assertion)`,
    `_rename_entry(conn, dn, new_rdn, new_superior)` and `_translated()` (a context manager
    that turns the library's exceptions into `errors`, calling `_drop_connection()` when the
    connection is gone).
    """

    _unreachable: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, uris: Sequence[str], bind_dn: str, bind_password: Optional[str],
                 connect_timeout: float = 5, timeout: float = 60,
                 bind_timeout: Optional[float] = None,
                 failback_interval: float = 10.0, failover_hold: float = 30.0) -> None:
        self._uris = tuple(uris)
        self._bind_dn = bind_dn
        self._bind_password = bind_password
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        # A server that accepts connections but never answers is left after the connect and
        # bind timeouts, not after LDAP_TIMEOUT (which a long search may need).
        self._bind_timeout = timeout if bind_timeout is None else bind_timeout
        # After a fail-back, reserving writes wait one interval and the time a check may
        # take (two probes) for the other hosts to move too.
        self._leader = Leader(self._uris, failback_interval,
                              failback_settle=2 * self._bind_timeout + 0.5)
        self._failover_hold = failover_hold
        self._last_reading: Optional[list[str]] = None  # the new leader's, while held
        self._repair: Callable[[], None] = lambda: None
        self._local = threading.local()
        self._sorting_retry_at = 0.0  # time.monotonic() from which slapd may sort again

    def _connection(self) -> Connection:
        self._start_failback_check()
        conn = getattr(self._local, "conn", None)
        if conn is not None and (getattr(self._local, "uri", None) != self._leader.current
                                 or not self._usable(conn)):
            self._drop_connection()  # another thread moved the worker on, or it is closed
            conn = None
        if conn is None:
            try:
                uri, conn = self._open_at_leader(self._bind_dn, self._bind_password)
            except BindRefused:
                log.error("slapd refused the bind as %s: check LDAP_BIND_DN and "
                          "LDAP_BIND_PASSWORD", self._bind_dn)
                raise errors.DirectoryUnavailable(
                    detail="the directory refused the API's own bind") from None
            self._local.conn, self._local.uri = conn, uri
        return conn

    def _open(self, user: str, password: Optional[str]) -> Connection:
        """A bound connection to the leader (see `_open_at_leader`)."""
        return self._open_at_leader(user, password)[1]

    def _open_at_leader(self, user: str, password: Optional[str]) -> tuple[str, Connection]:
        """(URI, a bound connection) of the leader: the server of LDAP_URI every thread of
        this worker uses. A server that cannot be reached is reported down, which moves
        every thread to the next (failover); each server is tried at most once.

        Raises:
            BindRefused: the server refused the credentials.
            errors.DirectoryUnavailable: no server could be reached.
        """
        tried: set[str] = set()
        while (uri := self._leader.current) not in tried:
            tried.add(uri)
            try:
                conn = self._bind(uri, user, password)
            except self._unreachable as exc:
                log.warning("cannot use directory server %s: %s", uri, self._describe(exc))
                metrics.DIRECTORY_FAILOVERS.labels(
                    "next_server" if len(tried) < len(self._uris) else "no_server_left").inc()
                self._leader.found_down(uri)
                continue
            if self._leader.current == uri:
                return uri, conn
            with contextlib.suppress(Exception):  # another thread moved on meanwhile
                self._unbind(conn)
        raise errors.DirectoryUnavailable(detail="the directory is unreachable")

    @property
    def uris(self) -> tuple[str, ...]:
        """The servers of LDAP_URI, in failover order."""
        return self._uris

    @property
    def leader(self) -> str:
        """The server of LDAP_URI this worker reads and writes through."""
        return self._leader.current

    def repair_after_failover(self, repair: Callable[[], None]) -> None:
        """Run `repair()` (check and repair the counters) once the new leader of a failover
        has caught up, before writes that reserve against a limit go on."""
        self._repair = repair

    def modify_read(self, dn: str, changes: Sequence[Change], attributes: Sequence[str],
                    assertion: Optional[str] = None) -> Entry:
        """`Directory.modify_read`. The entry's new entryCSN is noted as a write the
        leader took: a failover holds reserving writes until the next leader has it."""
        entry = self._run(lambda conn: self._modify_read_on(
            conn, dn, changes, [*attributes, "entryCSN"], assertion), kind="modify")
        uri, csn = getattr(self._local, "uri", None), entry.first("entryCSN")
        if uri and csn:
            self._leader.wrote(uri, str(csn))
        return entry

    def _modify_read_on(self, conn: Connection, dn: str, changes: Sequence[Change],
                        attributes: Sequence[str], assertion: Optional[str]) -> Entry:
        raise NotImplementedError

    def writes_held(self) -> Optional[float]:
        """None when writes that reserve against a limit may go on; else the seconds since
        the failover or fail-back they wait for (leader.py: until the leaders agree and
        the counters are repaired; checks run in the background), 0.0 while this worker's
        own fail-back check is due or running. When they may go on, the leader's
        contextCSN is read now and then (in the background), to know what a failover is
        to wait for."""
        hold = self._leader.hold
        if hold is None:
            if self._leader.failback_pending():
                self._start_failback_check()
                return 0.0
            uri = self._leader.note_due()
            if uri is not None and len(self._uris) > 1:
                threading.Thread(target=self._note_context_csns, args=(uri,), daemon=True,
                                 name="directory contextCSN").start()
            return None
        due = self._leader.catch_up_due()
        if due is not None:
            threading.Thread(target=self._check_caught_up, args=(due,), daemon=True,
                             name="directory catch-up").start()
        return time.monotonic() - hold.since

    def _note_context_csns(self, uri: str) -> None:
        with contextlib.suppress(errors.ApiError):  # down: a failover will tell
            self._read_context_csns(uri)

    def _check_caught_up(self, hold: WriteHold) -> None:
        """Whether the hold may end (after a fail-back: not before every host had the time
        to move back as well). The old leader answering again: after a failover, the
        worker moves back to it once it holds all the new one holds (a fail-back, whose
        hold follows); after a fail-back, the hold ends when the server moved to holds
        all the one left holds. The old leader down: after LDAP_FAILOVER_HOLD seconds,
        once the new leader holds all the old one was seen to hold or has applied all it
        received (its contextCSN stood still since the last check); its last writes may
        then be missing."""
        caught_up = False
        try:
            uri = self._leader.current
            try:
                old = self._read_context_csns(hold.old)
            except errors.ApiError:
                old = None
            if old is None and time.monotonic() - hold.since < self._failover_hold:
                return  # it may yet come back with writes the new leader lacks
            current = self._read_context_csns(uri)
            if old is not None and self._uris.index(hold.old) < self._uris.index(uri):
                if holds_everything(old, current):
                    self._leader.moved_back(uri, hold.old)
                return
            stood_still, self._last_reading = current == self._last_reading, current
            if holds_everything(current, [*hold.awaited, *(old or ())]) or \
                    (old is None and stood_still):
                self._repair()
                caught_up = True
        except Exception as exc:  # noqa: BLE001 - not yet: the next check tries again
            log.warning("after the failover to %s: %s", hold.new, exc)
        finally:
            self._leader.catch_up_checked(hold, caught_up)

    def _start_failback_check(self) -> None:
        """When the worker is not on the first server and a check is due, check in the
        background (a request never waits for it) whether it may move back."""
        due = self._leader.failback_candidates()
        if due is not None:
            threading.Thread(target=self._check_failback, args=due, daemon=True,
                             name="directory fail-back").start()

    def _check_failback(self, current: str, earlier: Sequence[str]) -> None:
        chosen = None
        try:
            held = self._read_context_csns(current)
            for uri in earlier:
                try:
                    if holds_everything(self._read_context_csns(uri), held):
                        chosen = uri
                        break
                except errors.ApiError:
                    continue  # still down: the next, or the next check
        except Exception as exc:  # noqa: BLE001 - the current one unreadable: stay for now
            log.debug("fail-back check: %s unreadable: %s", current, type(exc).__name__)
        finally:
            self._leader.failback_checked(current, chosen)

    def _read_context_csns(self, uri: str) -> list[str]:
        """The contextCSN values of every naming context of `uri`, on a connection of its
        own (bounded by LDAP_BIND_TIMEOUT)."""
        csns = self.probe(uri, self._bind_timeout, base="")
        self._leader.noted(uri, csns)
        return csns

    def probe(self, uri: str, timeout: float, base: Optional[str] = None) -> list[str]:
        """Bind as the API's own account to `uri` alone, on a new connection of its own that
        is closed again, connecting and waiting for each answer at most `timeout` seconds
        (not LDAP_CONNECT_TIMEOUT and LDAP_TIMEOUT: a health check must answer soon). With
        `base`, returns the `contextCSN` values of the database that holds `base` (one per
        server ID that wrote to it: how far the server has got); else [].

        Raises:
            errors.DirectoryUnavailable: the server cannot be reached, did not answer in
                time, or refused the bind (the detail says which, without server texts).
        """
        prober = type(self)((uri,), self._bind_dn, self._bind_password,
                            connect_timeout=timeout, timeout=timeout, bind_timeout=timeout)
        try:
            conn = prober._bind(uri, self._bind_dn, self._bind_password)
        except BindRefused:
            raise errors.DirectoryUnavailable(detail="refused the API's bind") from None
        except self._unreachable as exc:
            log.debug("health probe of %s: %s", server_address(uri), type(exc).__name__)
            raise errors.DirectoryUnavailable(detail="unreachable") from None
        prober._local.conn, prober._local.uri = conn, uri
        try:
            return prober._context_csns(base) if base is not None else []
        finally:
            prober._drop_connection()

    def _context_csns(self, base: str) -> list[str]:
        """The contextCSN values of the naming context that holds `base` (of every naming
        context when `base` is ""); [] when the server names none, or keeps no contextCSN
        (no syncprov)."""
        root = self.get("", ["namingContexts"])
        contexts = root.get("namingContexts") if root else []
        if base:
            lowered = base.lower()
            contexts = [max((c for c in contexts if lowered == c.lower()
                             or lowered.endswith("," + c.lower())), key=len, default="")]
        found: list[str] = []
        for context in filter(None, contexts):
            entry = self.get(context, ["contextCSN"])
            found += entry.get("contextCSN") if entry else []
        return sorted(found)

    def _alive(self, conn: Connection) -> bool:
        """Whether a kept connection may still be used (the library may know it closed)."""
        return True

    def _usable(self, conn: Connection) -> bool:
        """Whether a kept connection is still open at both ends. Between requests slapd
        sends nothing on it, so a socket with something to read has been closed by the
        server (a restart, an idle timeout) or carries its notice of disconnection: a
        request sent on it would be lost, so a new connection is opened first. A write
        that never reached the server is thereby never reported as failed."""
        if not self._alive(conn):
            return False
        sock = self._socket(conn)
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def _socket(self, conn: Connection) -> Any:
        return None

    def _describe(self, exc: BaseException) -> str:
        """The library's exception as a sentence for the log (python-ldap's are dicts)."""
        return str(exc)

    # -- what an adapter supplies ------------------------------------------------------

    def _bind(self, uri: str, user: str, password: Optional[str]) -> Connection:
        raise NotImplementedError

    def _unbind(self, conn: Connection) -> None:
        raise NotImplementedError

    def _delete_entry(self, conn: Connection, dn: str, assertion: Optional[str]) -> None:
        raise NotImplementedError

    def _rename_entry(self, conn: Connection, dn: str, new_rdn: str,
                      new_superior: Optional[str]) -> None:
        raise NotImplementedError

    def _translated(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def get(self, dn: str, attributes: Optional[Sequence[str]] = None) -> Optional[Entry]:
        raise NotImplementedError

    def search(self, base: str, search_filter: str, scope: Scope = Scope.SUB,
               attributes: Optional[Sequence[str]] = None,
               page_size: int = 500) -> Iterator[Entry]:
        raise NotImplementedError

    def _controlled_search(self, conn: Connection, base: str, search_filter: str,
                           scope: Scope, attributes: Optional[Sequence[str]],
                           controls: Sequence[windows.Control]) -> list[Entry]:
        """One search with these (critical) request controls, all its entries at once.
        Raises `windows.SortDeclined` for a result code in `windows.SORT_DECLINED`."""
        raise NotImplementedError

    def search_window(self, base: str, search_filter: str, scope: Scope, window: Window,
                      attributes: Optional[Sequence[str]] = None) -> WindowResult:
        if time.monotonic() >= self._sorting_retry_at:
            try:
                return windows.cut(self._sorted_search(base, search_filter, scope, window,
                                                       attributes), window)
            except windows.SortDeclined as declined:
                if declined.code != windows.BUSY:
                    log.info("slapd does not sort (%s): windows are read without it for "
                             "%d s", declined, SORTING_RETRY_SECONDS)
                    self._sorting_retry_at = time.monotonic() + SORTING_RETRY_SECONDS
        return windows.scan(self.search, base, search_filter, scope, window, attributes)

    def _sorted_search(self, base: str, search_filter: str, scope: Scope, window: Window,
                       attributes: Optional[Sequence[str]]) -> list[Entry]:
        """slapd's view of `window` (sssvlv), on a connection of its own that is closed
        right after: sssvlv keeps every view's sort until its connection closes (five per
        connection, by default, and a few for the whole server), so views left on the kept
        connection would soon make slapd refuse every sort (busy)."""
        controls = windows.window_controls(window)
        wanted = windows.fetch_attributes(attributes, window.key)
        declined = None
        with metrics.ldap_operation("search") as observation:
            try:
                conn = self._open(self._bind_dn, self._bind_password)
            except BindRefused:
                raise errors.DirectoryUnavailable(
                    detail="the directory refused the API's own bind") from None
            try:
                with self._translated():
                    return self._controlled_search(conn, base, search_filter, scope, wanted,
                                                   controls)
            except windows.SortDeclined as exc:
                observation.outcome = "SORT_DECLINED"  # not a failure: read without it
                declined = exc
            finally:
                with contextlib.suppress(Exception):
                    self._unbind(conn)
        raise declined

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = self._local.uri = None
        if conn is not None:
            with contextlib.suppress(Exception):
                self._unbind(conn)

    def _run(self, operation: Callable[[Connection], T], retry_read: bool = False, *,
             kind: str) -> T:
        """Run `operation(conn)`, the LDAP operation `kind` (`search`, `add`, `modify`,
        `delete`, `modrdn`), counted and timed in the metrics with its outcome; a read that
        finds its kept connection lost (e.g. slapd restarted meanwhile) reconnects and is
        tried once more. Writes are not retried: a lost answer leaves unknown whether the
        write happened."""
        with metrics.ldap_operation(kind):
            conn = getattr(self._local, "conn", None)
            had_connection = conn is not None and self._alive(conn)
            try:
                with self._translated():
                    return operation(self._connection())
            except errors.DirectoryUnavailable:
                if not (retry_read and had_connection):
                    raise
            with self._translated():
                return operation(self._connection())

    def delete(self, dn: str, subtree: bool = False, assertion: Optional[str] = None) -> int:
        if not subtree:
            self._run(lambda conn: self._delete_entry(conn, dn, assertion), kind="delete")
            return 1
        try:
            below = [entry.dn for entry in self.search(dn, "(objectClass=*)", Scope.SUB, ["1.1"])]
        except errors.EntryNotFound:
            return 0
        removed = 0
        for child in sorted(below, key=dn_depth, reverse=True):  # children before parents
            try:
                self._run(functools.partial(self._delete_entry, dn=child, assertion=None),
                          kind="delete")
                removed += 1
            except errors.EntryNotFound:
                continue  # removed meanwhile: the subtree delete stays idempotent
        return removed

    def rename(self, dn: str, new_rdn: str, new_superior: Optional[str] = None) -> str:
        self._run(lambda conn: self._rename_entry(conn, dn, new_rdn, new_superior),
                  kind="modrdn")
        parent = new_superior or parent_dn(dn)
        return f"{new_rdn},{parent}" if parent else new_rdn

    def check_password(self, dn: str, password: str) -> bool:
        if not password:
            return False  # an empty password would be an unauthenticated bind (RFC 4513)
        with metrics.ldap_operation("bind") as observation, self._translated():
            try:
                conn = self._open(dn, password)
            except BindRefused:
                observation.outcome = "INVALID_CREDENTIALS"
                return False
            with contextlib.suppress(Exception):
                self._unbind(conn)
            return True


def entry_of_bytes(dn: str, attrs: Mapping[str, Sequence[str | bytes]]) -> Entry:
    """An Entry of values as libldap and RFC 4527's read controls give them (bytes; ldap3's
    controls decode some already): UTF-8 text decoded, anything else (e.g. a photo) kept as
    bytes, as ldap3's searches return it."""
    return Entry(dn, {name: [_text_or_bytes(v) for v in values]
                      for name, values in attrs.items()})


def _text_or_bytes(value: str | bytes) -> str | bytes:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value
