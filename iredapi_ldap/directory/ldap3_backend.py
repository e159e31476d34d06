"""The directory adapter on ldap3: the only module of the project that imports ldap3.

One connection per worker thread, opened on first use and reused; `LDAP_URI` lists servers
tried in order (failover); connect and every operation have timeouts. A lost connection is
dropped, re-opened on the next call, and a read is retried once. Every ldap3 exception is
translated in `_translated()` into the API's errors.
"""

import contextlib
import logging
import threading
from urllib.parse import urlsplit, urlunsplit

import ldap3
from ldap3.core import exceptions as lx
from ldap3.operation.search import compile_filter, parse_filter
from ldap3.utils.asn1 import encode as ber_encode
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from .. import errors
from .base import Entry, Op, Scope

log = logging.getLogger(__name__)

ASSERTION_CONTROL = "1.3.6.1.1.12"  # RFC 4528

_SCOPES = {Scope.BASE: ldap3.BASE, Scope.ONE: ldap3.LEVEL, Scope.SUB: ldap3.SUBTREE}
_OPS = {Op.ADD: ldap3.MODIFY_ADD, Op.DELETE: ldap3.MODIFY_DELETE,
        Op.REPLACE: ldap3.MODIFY_REPLACE, Op.INCREMENT: ldap3.MODIFY_INCREMENT}

# Result codes the client or a concurrent writer can cause, by LDAP result code (RFC 4511).
_RESULT_ERRORS = {
    32: errors.EntryNotFound,       # noSuchObject
    68: errors.EntryExists,         # entryAlreadyExists
    122: errors.ConcurrentUpdate,   # assertionFailed (RFC 4528)
    16: errors.ConcurrentUpdate,    # noSuchAttribute: the value to delete is gone
    20: errors.ConcurrentUpdate,    # attributeOrValueExists: the value to add is there
    19: errors.DirectoryRejected,   # constraintViolation (e.g. a length bound)
    21: errors.DirectoryRejected,   # invalidAttributeSyntax
    34: errors.DirectoryRejected,   # invalidDNSyntax
    64: errors.DirectoryRejected,   # namingViolation
    51: errors.DirectoryUnavailable,  # busy
    52: errors.DirectoryUnavailable,  # unavailable
}

_CONNECTION_LOST = (lx.LDAPCommunicationError, lx.LDAPResponseTimeoutError)


def escape_filter_value(value):
    """`value` made safe to stand inside an LDAP filter assertion (RFC 4515)."""
    return escape_filter_chars(str(value))


def escape_dn_value(value):
    """`value` made safe to stand as an RDN value in a DN (RFC 4514)."""
    return escape_rdn(str(value))


class Ldap3Directory:
    """`Directory` on ldap3, bound as the API's own account (never the rootdn)."""

    def __init__(self, uris, bind_dn, bind_password, connect_timeout=5, timeout=60):
        # NOTE: not ldap3.ServerPool: after its last cycle it still sleeps
        # POOLING_LOOP_TIMEOUT (10 s), which would stall every request during an outage.
        self._addresses = [_server_address(uri) for uri in uris]
        self._connect_timeout = connect_timeout
        self._bind_dn = bind_dn
        self._bind_password = bind_password
        self._timeout = timeout
        self._local = threading.local()

    # -- connection handling -------------------------------------------------------------

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = self._open(self._bind_dn, self._bind_password)
            except lx.LDAPInvalidCredentialsResult:
                log.error("slapd refused the bind as %s: check LDAP_BIND_DN and "
                          "LDAP_BIND_PASSWORD", self._bind_dn)
                raise errors.DirectoryUnavailable(
                    detail="the directory refused the API's own bind") from None
            self._local.conn = conn
        return conn

    def _open(self, user, password):
        """A bound connection to the first server of LDAP_URI that answers (failover).

        Raises:
            ldap3's LDAPInvalidCredentialsResult: the server refused the credentials.
            errors.DirectoryUnavailable: no server could be reached.
        """
        for address in self._addresses:
            # A new Server each time: a Server remembers a failed address as unavailable for
            # a few seconds, which would outlast a slapd restart.
            server = ldap3.Server(address, connect_timeout=self._connect_timeout,
                                  get_info=ldap3.NONE)
            conn = ldap3.Connection(server, user=user, password=password,
                                    raise_exceptions=True, receive_timeout=self._timeout,
                                    return_empty_attributes=False, auto_referrals=False)
            try:
                conn.open()
                conn.bind()
                return conn
            except lx.LDAPInvalidCredentialsResult:
                raise
            except (lx.LDAPException, OSError) as exc:
                log.warning("cannot use directory server %s: %s", server, exc)
        raise errors.DirectoryUnavailable(detail="the directory is unreachable")

    def _drop_connection(self):
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.unbind()

    @contextlib.contextmanager
    def _translated(self):
        """Turn every ldap3 exception into the API's errors; drop a broken connection."""
        try:
            yield
        except _CONNECTION_LOST as exc:
            self._drop_connection()
            log.warning("directory connection lost: %s", exc)
            raise errors.DirectoryUnavailable(detail="the directory is unreachable") from None
        except lx.LDAPOperationResult as exc:
            error_class = _RESULT_ERRORS.get(exc.result)
            if error_class is errors.DirectoryUnavailable:
                self._drop_connection()
            if error_class is None:
                log.error("directory error %s (%s) on %s", exc.result, exc.description,
                          getattr(exc, "dn", ""))
                raise errors.DirectoryError(detail="the directory refused the operation") \
                    from None
            raise error_class(detail=_DETAILS.get(exc.result)) from None
        except lx.LDAPException as exc:
            log.error("directory client error: %r", exc)
            raise errors.DirectoryError(detail="the directory operation failed") from None

    def _run(self, operation, retry_read=False):
        """Run `operation(conn)`; a read that finds its kept connection lost (e.g. slapd
        restarted meanwhile) reconnects and is tried once more. Writes are not retried: a
        lost answer leaves unknown whether the write happened."""
        conn = getattr(self._local, "conn", None)
        had_connection = conn is not None and not conn.closed
        try:
            with self._translated():
                return operation(self._connection())
        except errors.DirectoryUnavailable:
            if not (retry_read and had_connection):
                raise
        with self._translated():
            return operation(self._connection())

    # -- the Directory protocol ----------------------------------------------------------

    def get(self, dn, attributes=None):
        def read(conn):
            try:
                conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=_attrs(attributes))
            except lx.LDAPNoSuchObjectResult:
                return None
            found = [r for r in conn.response if r.get("type") == "searchResEntry"]
            return _entry(found[0]) if found else None
        return self._run(read, retry_read=True)

    def search(self, base, search_filter, scope=Scope.SUB, attributes=None, page_size=500):
        pages = self._run(lambda conn: self._first_page(
            conn, base, search_filter, scope, attributes, page_size), retry_read=True)
        yield from pages

    def _first_page(self, conn, base, search_filter, scope, attributes, page_size):
        """Start a paged search; returns a generator that goes on with the pages.

        The first result is read here, so a lost connection shows before anything is yielded
        and the caller may retry; later failures surface while iterating.
        """
        results = conn.extend.standard.paged_search(
            base, search_filter, _SCOPES[scope], attributes=_attrs(attributes),
            paged_size=page_size, generator=True)
        first = next(results, None)
        return self._stream(first, results)

    def _stream(self, first, results):
        with self._translated():
            item = first
            while item is not None:
                if item.get("type") == "searchResEntry":
                    yield _entry(item)
                item = next(results, None)

    def add(self, dn, attributes):
        values = {name: list(vals) for name, vals in attributes.items() if vals not in ((), [])}
        self._run(lambda conn: conn.add(dn, attributes=values))

    def modify(self, dn, changes, assertion=None):
        if not changes:
            return
        payload = {}
        for change in changes:
            payload.setdefault(change.attribute, []).append(
                (_OPS[change.op], list(change.values)))
        controls = [_assertion_control(assertion)] if assertion else None
        self._run(lambda conn: conn.modify(dn, payload, controls=controls))

    def delete(self, dn, subtree=False):
        if not subtree:
            self._run(lambda conn: conn.delete(dn))
            return 1
        try:
            below = [entry.dn for entry in self.search(dn, "(objectClass=*)", Scope.SUB, ["1.1"])]
        except errors.EntryNotFound:
            return 0
        removed = 0
        # Children before parents: deeper DNs have more RDNs.
        for child in sorted(below, key=lambda d: len(parse_dn(d)), reverse=True):
            try:
                self._run(lambda conn, child=child: conn.delete(child))
                removed += 1
            except errors.EntryNotFound:
                continue  # removed meanwhile: the subtree delete stays idempotent
        return removed

    def rename(self, dn, new_rdn, new_superior=None):
        self._run(lambda conn: conn.modify_dn(dn, new_rdn, new_superior=new_superior))
        parent = new_superior or ",".join(f"{attr}={value}" for attr, value, _ in parse_dn(dn)[1:])
        return f"{new_rdn},{parent}" if parent else new_rdn

    def check_password(self, dn, password):
        if not password:
            return False  # an empty password would be an unauthenticated bind (RFC 4513)
        with self._translated():
            try:
                conn = self._open(dn, password)
            except lx.LDAPInvalidCredentialsResult:
                return False
            with contextlib.suppress(Exception):
                conn.unbind()
            return True


_DETAILS = {
    32: "no such entry",
    68: "the entry exists already",
    122: "the entry was changed by another request; try again",
    16: "the entry was changed by another request; try again",
    20: "the entry was changed by another request; try again",
    19: "a value breaks a constraint of the directory schema",
    21: "a value has the wrong syntax for its attribute",
    34: "malformed name",
    64: "malformed name",
    51: "the directory is busy",
    52: "the directory is unavailable",
}


def _server_address(uri):
    """scheme://host:port of an LDAP URI; ldap3 refuses the URI's optional path part."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _attrs(attributes):
    return list(attributes) if attributes else [ldap3.ALL_ATTRIBUTES]


def _entry(result):
    return Entry(result["dn"], {name: list(values) if isinstance(values, list) else [values]
                                for name, values in result["attributes"].items()})


def _assertion_control(assertion):
    tree = parse_filter(assertion, None, auto_escape=False, auto_encode=True,
                        validator=None, check_names=False)
    return (ASSERTION_CONTROL, True, ber_encode(compile_filter(tree.elements[0])))
