"""Login and session checks for admins.

Admins are standalone `mailAdmin` entries under LDAP_ADMIN_BASEDN and mail users with
`domainGlobalAdmin: yes` or `enabledService: domainadmin` (DESIGN.md section 3).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import metrics, passwords
from ..addresses import is_email
from ..directory import Entry
from ..errors import BadRequest, Code, PermissionDenied, TooManyRequests, Unauthenticated
from ..model.kinds import ADMIN, USER
from .repository import Repository

if TYPE_CHECKING:
    from ..policy.logins import LoginRecords
    from ..sessions import SessionCodec
    from ..throttle import LoginThrottle

log = logging.getLogger(__name__)

ADMIN_ATTRIBUTES = ("objectClass", "mail", "userPassword", "accountStatus", "domainStatus",
                    "domainGlobalAdmin", "enabledService")


@dataclass(frozen=True)
class Caller:
    """Who is calling: an authenticated admin."""

    mail: str
    dn: str
    is_global_admin: bool


def is_admin_entry(entry: Entry) -> bool:
    """Whether the entry is an admin account (standalone, or a privileged mail user)."""
    if entry.has_value("objectClass", ADMIN.marker):
        return True
    return entry.has_value("objectClass", USER.marker) and (
        entry.has_value("domainGlobalAdmin", "yes")
        or entry.has_value("enabledService", "domainadmin"))


def is_active(entry: Entry) -> bool:
    return (str(entry.first("accountStatus", "")).lower() == "active"
            and str(entry.first("domainStatus", "")).lower() != "disabled")


class AuthService:
    """Checks passwords, issues session tokens and turns tokens back into a `Caller`."""

    def __init__(self, repo: Repository, sessions: SessionCodec, throttle: LoginThrottle,
                 records: LoginRecords, cache_seconds: float = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._repo = repo
        self._sessions = sessions
        self._throttle = throttle
        self._records = records
        self._clock = clock
        self._checked = _RecentChecks(cache_seconds, clock)

    def login(self, username: str | None, password: str | None,
              client_ip: str) -> tuple[str, Caller]:
        """Check the credentials of an admin; returns (session token, Caller).

        Raises:
            BadRequest: username or password missing, or username not an address.
            TooManyRequests: too many recent failures for this IP or username.
            Unauthenticated: unknown account or wrong password (INVALID_CREDENTIALS).
            PermissionDenied: right password, but the account is disabled or not an admin.
        """
        username = (username or "").lower()
        for name, value in (("username", username), ("password", password)):
            if not value:
                raise BadRequest(Code.MISSING_PARAMETER, detail=f"{name} is required")
        if not is_email(username):
            raise BadRequest(Code.INVALID_MAIL, detail="username must be a full e-mail address")
        try:
            attempt = self._throttle.attempt(client_ip, username)
        except TooManyRequests:
            metrics.LOGIN_REFUSALS.labels("too_many_attempts").inc()
            raise
        try:
            entry = self._find_account(username)
            matches = entry is not None and passwords.verify(password,
                                                             entry.get("userPassword"))
            if entry is None:
                passwords.verify_decoy(password)
        except BaseException:  # an outage: no guess was checked
            self._throttle.withdraw(attempt)
            raise
        if entry is None or not matches:  # (entry None: no match; said for mypy)
            log.warning("login failed: user=%r ip=%s reason=bad credentials", username, client_ip)
            metrics.LOGIN_FAILURES.labels("invalid_credentials").inc()
            raise Unauthenticated(Code.INVALID_CREDENTIALS, detail="wrong username or password")
        try:
            self._refuse_unless_admin(entry, username, client_ip)
        except PermissionDenied:  # the right password: no failed guess, and no login
            self._throttle.withdraw(attempt)
            raise
        self._throttle.succeeded(attempt)
        log.info("login ok: user=%r ip=%s", username, client_ip)
        token = self._sessions.issue(entry.dn, entry.get("userPassword"))
        return token, _caller(entry, username)

    def _find_account(self, mail: str) -> Entry | None:
        # iRedAdmin's order: the mail user first, then the standalone admin.
        for dn in (self._repo.dn(USER, mail), self._repo.dn(ADMIN, mail)):
            entry = self._repo.directory.get(dn, ADMIN_ATTRIBUTES)
            if entry is not None:
                return entry
        return None

    @staticmethod
    def _refuse_unless_admin(entry: Entry, username: str, client_ip: str) -> None:
        if not is_active(entry):
            log.warning("login refused: user=%r ip=%s reason=disabled", username, client_ip)
            metrics.LOGIN_FAILURES.labels("account_disabled").inc()
            raise PermissionDenied(Code.ACCOUNT_DISABLED, detail="the account is disabled")
        if not is_admin_entry(entry):
            log.warning("login refused: user=%r ip=%s reason=not an admin", username, client_ip)
            metrics.LOGIN_FAILURES.labels("not_admin").inc()
            raise PermissionDenied(detail="the account is not an admin")

    def authenticate(self, token: str | None) -> Caller:
        """The Caller a session token stands for.

        A token that passed the full check is trusted for `cache_seconds` (10 s) without
        reading the directory and the ended sessions again (or its signature: the very
        text was checked); its expiry is still checked on every request.

        Raises:
            Unauthenticated: bad or expired token, logged out, or the account changed its
                password, was disabled, removed or lost its admin privilege since the login.
        """
        checked = self._checked.get(token)
        if checked is not None and not self._sessions.is_expired(checked.expires):
            return checked.caller
        claims = self._sessions.read(token)
        entry = self._repo.directory.get(claims.dn, ADMIN_ATTRIBUTES)
        if (entry is None or not is_active(entry) or not is_admin_entry(entry)
                or self._sessions.fingerprint(entry.get("userPassword")) != claims.fingerprint
                or self._records.has_ended(claims.session_id)):
            raise Unauthenticated(detail="session ended; log in again")
        caller = _caller(entry, str(entry.first("mail", "")).lower())
        self._checked.put(token, _Checked(caller, claims.session_id, claims.expires))
        return caller


    def logout(self, token: str | None) -> None:
        """End the session of `token` on every worker and host (within the 10 s that
        they may trust a checked session). A token that is not a valid session needs
        nothing."""
        try:
            claims = self._sessions.read(token)
        except Unauthenticated:
            return
        self._records.end_session(claims.session_id, claims.expires, self._sessions.now())
        # Every spelling of the session this worker trusted, not only this one.
        self._checked.forget_where(lambda checked: checked.session_id == claims.session_id)


def _caller(entry: Entry, mail: str) -> Caller:
    return Caller(mail=mail, dn=entry.dn,
                  is_global_admin=entry.has_value("domainGlobalAdmin", "yes"))


@dataclass(frozen=True)
class _Checked:
    caller: Caller
    session_id: str
    expires: int


class _RecentChecks:
    """Tokens that passed the full check, kept at most `seconds` (bounded LRU)."""

    def __init__(self, seconds: float, clock: Callable[[], float], max_items: int = 1024) -> None:
        self._seconds = seconds
        self._clock = clock
        self._max = max_items
        self._items: OrderedDict[str | None, tuple[float, _Checked]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None) -> _Checked | None:
        with self._lock:
            hit = self._items.get(key)
            if hit and self._clock() - hit[0] < self._seconds:
                return hit[1]
        return None

    def forget_where(self, matches: Callable[[_Checked], bool]) -> None:
        """Forget every kept value that `matches(value)`."""
        with self._lock:
            for key in [k for k, (_, value) in self._items.items() if matches(value)]:
                del self._items[key]

    def put(self, key: str | None, value: _Checked) -> None:
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
