"""The directory adapter on ldap3 (pure Python): the only module of the project that imports
ldap3. Connection handling is shared with the python-ldap adapter (`connections.py`); every
ldap3 exception is translated in `_translated()`.
"""

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional

import ldap3
from ldap3.core import exceptions as lx
from ldap3.operation.search import compile_filter, parse_filter
from ldap3.protocol.rfc4527 import post_read_control
from ldap3.utils.asn1 import encode as ber_encode

from .. import errors
from .base import Change, Entry, Op, Scope
from .connections import (
    BindRefused,
    Connection,
    ThreadBoundDirectory,
    entry_of_bytes,
    server_address,
)
from .results import error_for
from .windows import SORT_DECLINED, Control, SortDeclined

log = logging.getLogger(__name__)

ASSERTION_CONTROL = "1.3.6.1.1.12"  # RFC 4528
POST_READ_CONTROL = "1.3.6.1.1.13.2"  # RFC 4527

_SCOPES = {Scope.BASE: ldap3.BASE, Scope.ONE: ldap3.LEVEL, Scope.SUB: ldap3.SUBTREE}
_OPS = {Op.ADD: ldap3.MODIFY_ADD, Op.DELETE: ldap3.MODIFY_DELETE,
        Op.REPLACE: ldap3.MODIFY_REPLACE, Op.INCREMENT: ldap3.MODIFY_INCREMENT}

_CONNECTION_LOST = (lx.LDAPCommunicationError, lx.LDAPResponseTimeoutError)


class Ldap3Directory(ThreadBoundDirectory):
    """`Directory` on ldap3."""

    _unreachable = (lx.LDAPException, OSError)

    # -- connections (see ThreadBoundDirectory) ------------------------------------------

    def _bind(self, uri: str, user: str, password: Optional[str]) -> Connection:
        # NOTE: not ldap3.ServerPool: after its last cycle it still sleeps
        # POOLING_LOOP_TIMEOUT (10 s), which would stall every request during an outage.
        # A new Server each time: a Server remembers a failed address as unavailable for a
        # few seconds, which would outlast a slapd restart.
        server = ldap3.Server(server_address(uri), connect_timeout=self._connect_timeout,
                              get_info=ldap3.NONE)
        conn = ldap3.Connection(server, user=user, password=password, raise_exceptions=True,
                                receive_timeout=self._bind_timeout,
                                return_empty_attributes=False, auto_referrals=False)
        try:
            conn.open()
            conn.bind()
        except lx.LDAPInvalidCredentialsResult:
            raise BindRefused() from None
        except BaseException:
            with contextlib.suppress(Exception):
                conn.unbind()  # close the socket now, not when collected
            raise
        conn.receive_timeout = self._timeout  # from now on, the wait for any answer
        conn.socket.settimeout(self._timeout)
        return conn

    def _alive(self, conn: Connection) -> bool:
        return not conn.closed

    def _unbind(self, conn: Connection) -> None:
        conn.unbind()

    def _socket(self, conn: Connection) -> Any:
        return conn.socket

    def _delete_entry(self, conn: Connection, dn: str, assertion: Optional[str]) -> None:
        conn.delete(dn, controls=[_assertion_control(assertion)] if assertion else None)

    def _rename_entry(self, conn: Connection, dn: str, new_rdn: str,
                      new_superior: Optional[str]) -> None:
        conn.modify_dn(dn, new_rdn, new_superior=new_superior)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn every ldap3 exception into the API's errors; drop a broken connection."""
        try:
            yield
        except _CONNECTION_LOST as exc:
            self._drop_connection()
            log.warning("directory connection lost: %s", exc)
            raise errors.DirectoryUnavailable(detail="the directory is unreachable") from None
        except lx.LDAPOperationResult as exc:
            error = error_for(exc.result, exc.description, getattr(exc, "dn", ""))
            if isinstance(error, errors.DirectoryUnavailable):
                self._drop_connection()
            raise error from None
        except lx.LDAPException as exc:
            log.error("directory client error: %r", exc)
            raise errors.DirectoryError(detail="the directory operation failed") from None

    # -- the Directory protocol ----------------------------------------------------------

    def get(self, dn: str, attributes: Optional[Sequence[str]] = None) -> Optional[Entry]:
        def read(conn: Connection) -> Optional[Entry]:
            try:
                conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=_attrs(attributes))
            except lx.LDAPNoSuchObjectResult:
                return None
            found = [r for r in conn.response if r.get("type") == "searchResEntry"]
            return _entry(found[0]) if found else None
        return self._run(read, retry_read=True, kind="search")

    def search(self, base: str, search_filter: str, scope: Scope = Scope.SUB,
               attributes: Optional[Sequence[str]] = None,
               page_size: int = 500) -> Iterator[Entry]:
        pages = self._run(lambda conn: self._first_page(
            conn, base, search_filter, scope, attributes, page_size), retry_read=True,
            kind="search")
        yield from pages

    def _first_page(self, conn: Connection, base: str, search_filter: str, scope: Scope,
                    attributes: Optional[Sequence[str]], page_size: int) -> Iterator[Entry]:
        """Start a paged search; returns a generator that goes on with the pages.

        The first result is read here, so a lost connection shows before anything is yielded
        and the caller may retry; later failures surface while iterating.
        """
        results = conn.extend.standard.paged_search(
            base, search_filter, _SCOPES[scope], attributes=_attrs(attributes),
            paged_size=page_size, generator=True)
        first = next(results, None)
        return self._stream(first, results)

    def _stream(self, first: Optional[dict[str, Any]],
                results: Iterator[dict[str, Any]]) -> Iterator[Entry]:
        with self._translated():
            item = first
            while item is not None:
                if item.get("type") == "searchResEntry":
                    yield _entry(item)
                item = next(results, None)

    def _controlled_search(self, conn: Connection, base: str, search_filter: str,
                           scope: Scope, attributes: Optional[Sequence[str]],
                           controls: Sequence[Control]) -> list[Entry]:
        try:
            conn.search(base, search_filter, _SCOPES[scope], attributes=_attrs(attributes),
                        controls=list(controls))
        except lx.LDAPOperationResult as exc:
            if exc.result in SORT_DECLINED:
                raise SortDeclined(exc.result) from None
            raise
        return [_entry(r) for r in conn.response if r.get("type") == "searchResEntry"]

    def add(self, dn: str, attributes: Mapping[str, Sequence[Any]]) -> None:
        values = {name: list(vals) for name, vals in attributes.items() if vals not in ((), [])}
        self._run(lambda conn: conn.add(dn, attributes=values), kind="add")

    def modify(self, dn: str, changes: Sequence[Change],
               assertion: Optional[str] = None) -> None:
        if not changes:
            return
        controls = [_assertion_control(assertion)] if assertion else None
        self._run(lambda conn: conn.modify(dn, _payload(changes), controls=controls),
                  kind="modify")

    def _modify_read_on(self, conn: Connection, dn: str, changes: Sequence[Change],
                        attributes: Sequence[str], assertion: Optional[str]) -> Entry:
        controls = [post_read_control(list(attributes), criticality=True)]
        if assertion:
            controls.append(_assertion_control(assertion))
        conn.modify(dn, _payload(changes), controls=controls)
        read = (conn.result.get("controls") or {}).get(POST_READ_CONTROL)
        if not read:
            raise errors.DirectoryError(detail="the directory sent no post-read entry")
        return entry_of_bytes(dn, read["value"]["result"])


def _payload(changes: Sequence[Change]) -> dict[str, list[tuple[Any, list[Any]]]]:
    payload: dict[str, list[tuple[Any, list[Any]]]] = {}
    for change in changes:
        payload.setdefault(change.attribute, []).append((_OPS[change.op], list(change.values)))
    return payload


def _attrs(attributes: Optional[Sequence[str]]) -> list[str]:
    return list(attributes) if attributes else [ldap3.ALL_ATTRIBUTES]


def _entry(result: dict[str, Any]) -> Entry:
    return Entry(result["dn"], {name: list(values) if isinstance(values, list) else [values]
                                for name, values in result["attributes"].items()})


def _assertion_control(assertion: str) -> tuple[str, bool, bytes]:
    tree = parse_filter(assertion, None, auto_escape=False, auto_encode=True,
                        validator=None, check_names=False)
    return (ASSERTION_CONTROL, True, ber_encode(compile_filter(tree.elements[0])))
