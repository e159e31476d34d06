"""The directory adapter on python-ldap (OpenLDAP's libldap, in C): selected with
`LDAP_CLIENT: python-ldap`. It encodes and decodes BER in C, which makes single-entry reads
several times cheaper than in ldap3. Connection handling is shared with the ldap3 adapter
(`connections.py`); every python-ldap exception is translated in `_translated()`.

Values go out as UTF-8 bytes and come back as text, or as bytes when they are not UTF-8
(binary attributes), as the ldap3 adapter returns them.
"""

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional

import ldap
from ldap.controls import (
    AssertionControl,
    LDAPControl,
    ResponseControl,
    SimplePagedResultsControl,
)
from ldap.controls.readentry import PostReadControl

from .. import errors
from .base import Change, Entry, Op, Scope
from .ber import search_result_entry
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

_SCOPES = {Scope.BASE: ldap.SCOPE_BASE, Scope.ONE: ldap.SCOPE_ONELEVEL,
           Scope.SUB: ldap.SCOPE_SUBTREE}
_OPS = {Op.ADD: ldap.MOD_ADD, Op.DELETE: ldap.MOD_DELETE, Op.REPLACE: ldap.MOD_REPLACE,
        Op.INCREMENT: ldap.MOD_INCREMENT}

# libldap's own codes (negative) for a connection that is gone or an answer that never came.
_CONNECTION_LOST = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)


class PythonLdapDirectory(ThreadBoundDirectory):
    """`Directory` on python-ldap."""

    _unreachable = (ldap.LDAPError, OSError)

    # -- connections (see ThreadBoundDirectory) ------------------------------------------

    def _bind(self, uri: str, user: str, password: Optional[str]) -> Connection:
        conn = ldap.initialize(server_address(uri))
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, float(self._connect_timeout))
        conn.timeout = self._bind_timeout  # python-ldap's limit on waiting for each answer
        try:
            conn.simple_bind_s(user, password)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                conn.unbind_ext_s()  # close the socket now, not when collected
            if isinstance(exc, ldap.INVALID_CREDENTIALS):
                raise BindRefused() from None
            raise
        conn.timeout = self._timeout
        return conn

    def _unbind(self, conn: Connection) -> None:
        conn.unbind_ext_s()

    def _describe(self, exc: BaseException) -> str:
        return _describe(exc)

    def _socket(self, conn: Connection) -> Optional[int]:
        descriptor = conn.get_option(ldap.OPT_DESC)
        return descriptor if isinstance(descriptor, int) and descriptor >= 0 else None

    def _delete_entry(self, conn: Connection, dn: str, assertion: Optional[str]) -> None:
        controls = [AssertionControl(True, assertion)] if assertion else None
        conn.delete_ext_s(dn, serverctrls=controls)

    def _rename_entry(self, conn: Connection, dn: str, new_rdn: str,
                      new_superior: Optional[str]) -> None:
        conn.rename_s(dn, new_rdn, new_superior, delold=1)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn every python-ldap exception into the API's errors; drop a broken
        connection."""
        try:
            yield
        except _CONNECTION_LOST as exc:
            self._drop_connection()
            log.warning("directory connection lost: %s", _describe(exc))
            raise errors.DirectoryUnavailable(detail="the directory is unreachable") from None
        except ldap.LDAPError as exc:
            info = _info(exc)
            code = info.get("result")
            if not isinstance(code, int) or code < 0:  # libldap's own, e.g. a filter error
                log.error("directory client error: %s", _describe(exc))
                raise errors.DirectoryError(detail="the directory operation failed") from None
            error = error_for(code, info.get("desc", ""), info.get("matched", ""))
            if isinstance(error, errors.DirectoryUnavailable):
                self._drop_connection()
            raise error from None

    # -- the Directory protocol ----------------------------------------------------------

    def get(self, dn: str, attributes: Optional[Sequence[str]] = None) -> Optional[Entry]:
        def read(conn: Connection) -> Optional[Entry]:
            try:
                found = conn.search_ext_s(dn, ldap.SCOPE_BASE, "(objectClass=*)",
                                          _attrs(attributes), timeout=self._timeout)
            except ldap.NO_SUCH_OBJECT:
                return None
            return next((entry_of_bytes(*item) for item in found if item[0] is not None), None)
        return self._run(read, retry_read=True, kind="search")

    def search(self, base: str, search_filter: str, scope: Scope = Scope.SUB,
               attributes: Optional[Sequence[str]] = None,
               page_size: int = 500) -> Iterator[Entry]:
        request = (base, _SCOPES[scope], search_filter, _attrs(attributes))
        control = SimplePagedResultsControl(True, size=page_size, cookie="")
        # The first page is read before anything is yielded, so a lost connection shows
        # while the read may still be retried; the pages after it use the same connection.
        conn, entries, cookie = self._run(
            lambda conn: (conn, *self._page(conn, request, control)), retry_read=True,
            kind="search")
        yield from entries
        while cookie:
            control.cookie = cookie
            with self._translated():
                entries, cookie = self._page(conn, request, control)
            yield from entries

    def _page(self, conn: Connection, request: tuple[Any, ...],
              control: Any) -> tuple[list[Entry], bytes]:
        """One page of a paged search (RFC 2696): (entries, cookie of the next page)."""
        msgid = conn.search_ext(*request, serverctrls=[control])
        _, data, _, controls = conn.result3(msgid, all=1, timeout=self._timeout)
        cookie = next((c.cookie for c in controls
                       if c.controlType == SimplePagedResultsControl.controlType), b"")
        return [entry_of_bytes(dn, attrs) for dn, attrs in data if dn is not None], cookie

    def _controlled_search(self, conn: Connection, base: str, search_filter: str,
                           scope: Scope, attributes: Optional[Sequence[str]],
                           controls: Sequence[Control]) -> list[Entry]:
        server_controls = [LDAPControl(oid, critical, encodedControlValue=value)
                           for oid, critical, value in controls]
        try:
            found = conn.search_ext_s(base, _SCOPES[scope], search_filter, _attrs(attributes),
                                      serverctrls=server_controls, timeout=self._timeout)
        except ldap.LDAPError as exc:
            code = _info(exc).get("result")
            if code in SORT_DECLINED:
                raise SortDeclined(code) from None
            raise
        return [entry_of_bytes(dn, attrs) for dn, attrs in found if dn is not None]

    def add(self, dn: str, attributes: Mapping[str, Sequence[Any]]) -> None:
        modlist = [(name, [_encoded(v) for v in values])
                   for name, values in attributes.items() if values not in ((), [])]
        self._run(lambda conn: conn.add_ext_s(dn, modlist), kind="add")

    def modify(self, dn: str, changes: Sequence[Change],
               assertion: Optional[str] = None) -> None:
        if not changes:
            return
        controls = [AssertionControl(True, assertion)] if assertion else None
        self._run(lambda conn: conn.modify_ext_s(dn, _modlist(changes), serverctrls=controls),
                  kind="modify")

    def _modify_read_on(self, conn: Connection, dn: str, changes: Sequence[Change],
                        attributes: Sequence[str], assertion: Optional[str]) -> Entry:
        controls: list[LDAPControl] = [PostReadControl(True, list(attributes))]
        if assertion:
            controls.append(AssertionControl(True, assertion))
        msgid = conn.modify_ext(dn, _modlist(changes), serverctrls=controls)
        # As modify_ext_s, with the post-read control decoded by _PostRead.
        reply = conn.result4(msgid, all=1, timeout=conn.timeout,
                             resp_ctrl_classes=_RESPONSE_CONTROLS)
        for control in reply[3] or ():
            if isinstance(control, _PostRead):
                return entry_of_bytes(control.dn or dn, control.entry)
        raise errors.DirectoryError(detail="the directory sent no post-read entry")


class _PostRead(ResponseControl):
    """RFC 4527's post-read control as a response, decoded by `ber.search_result_entry`
    instead of python-ldap's PostReadControl (pyasn1, 0.67 ms a decode: see ber.py)."""

    controlType = PostReadControl.controlType

    def decodeControlValue(self, encodedControlValue: bytes) -> None:  # python-ldap's name
        try:
            self.dn, self.entry = search_result_entry(encodedControlValue)
        except (ValueError, UnicodeDecodeError):  # no result code: _translated logs it
            raise ldap.DECODING_ERROR({"desc": "malformed post-read control"}) from None


# The response controls a modify_read decodes; any other critical one is refused.
_RESPONSE_CONTROLS = {_PostRead.controlType: _PostRead}


def _modlist(changes: Sequence[Change]) -> list[tuple[int, str, Optional[list[bytes]]]]:
    return [(_OPS[change.op], change.attribute, [_encoded(v) for v in change.values] or None)
            for change in changes]


def _attrs(attributes: Optional[Sequence[str]]) -> Optional[list[str]]:
    return list(attributes) if attributes else None  # None: every user attribute


def _encoded(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _info(exc: BaseException) -> dict[str, Any]:
    return exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}


def _describe(exc: BaseException) -> str:
    info = _info(exc)
    return " ".join(str(info[key]) for key in ("desc", "info") if info.get(key)) or repr(exc)
