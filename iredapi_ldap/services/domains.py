"""Domains: list, read, create, update, delete (API document, "Domain")."""

from __future__ import annotations

import builtins
import functools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from ..directory import Entry, Scope, WindowResult, escape_filter_value
from ..errors import (
    BadRequest,
    Code,
    ConcurrentUpdate,
    Conflict,
    DirectoryUnavailable,
    EntryExists,
    NotFound,
    PermissionDenied,
)
from ..model.draft import EntryDraft
from ..model.kinds import CONTAINERS, DOMAIN
from ..model.params import Effect, Who
from ..model.parsing import parse_domain, purge_date, rdn_fits
from ..model.profiles import DOMAIN_PROFILES, DOMAIN_SETTING, hide_disabled, refuse_disabled
from ..model.render import render_entry
from ..model.rules import AliasDomains
from . import counters, domainwide, listing
from .access import (
    disabled_profiles,
    is_hosted,
    require_domain,
    require_privileged_accounts_within,
    scope_of,
    without_disabled,
)
from .catchall import CatchAll
from .completions import users_mailboxes
from .repository import Repository

if TYPE_CHECKING:
    from ..config import Settings
    from ..policy.base import PolicyStore
    from ..policy.journal import Intent
    from .auth import Caller
    from .completions import Completions
    from .limits import AdminLimits

log = logging.getLogger(__name__)

class _Context:
    """What the domain rules may ask about the request."""

    def __init__(self, caller: Caller, settings: Settings, domain: str,
                 refuse_taken: Callable[[str], None]) -> None:
        self.is_global_admin = caller.is_global_admin
        self.default_transport = settings.default_mta_transport
        self.domain = domain
        self.refuse_taken = refuse_taken


def _listing_filter(caller: Caller, disabled_only: bool) -> str:
    """The domains a listing shows: those the caller manages (disabled ones only)."""
    parts = [DOMAIN.search_filter]
    if not caller.is_global_admin:
        parts.append(f"(domainAdmin={escape_filter_value(caller.mail)})")
    if disabled_only:
        parts.append("(accountStatus=disabled)")
    return f"(&{''.join(parts)})"


class DomainService:
    def __init__(self, repo: Repository, store: PolicyStore, settings: Settings,
                 limits: AdminLimits, completions: Completions) -> None:
        self._completions = completions
        self._repo = repo
        self._store = store
        self._settings = settings
        self._limits = limits
        self._catchall = CatchAll(repo)

    # -- reading ------------------------------------------------------------------------

    def list(self, caller: Caller, disabled_only: bool = False,
             names_only: bool = False) -> Iterator[Entry]:
        """The domains the caller manages, streamed from a paged one-level search."""
        attributes = ["domainName"] if names_only else None
        return (self._shown(caller, entry) for entry in self._repo.directory.search(
            self._repo.basedn, _listing_filter(caller, disabled_only), Scope.ONE, attributes))

    def page(self, caller: Caller, after: str | None, limit: int, disabled_only: bool = False,
             names_only: bool = False) -> WindowResult:
        """The `limit` domains the caller manages whose names come first after `after`."""
        return listing.page(self._repo, DOMAIN, self._repo.basedn,
                            _listing_filter(caller, disabled_only), after, limit, names_only,
                            functools.partial(self._shown, caller))

    @staticmethod
    def _shown(caller: Caller, entry: Entry) -> Entry:
        return without_disabled(caller, DOMAIN_PROFILES,
                                disabled_profiles(entry, DOMAIN_SETTING), entry)

    def get(self, caller: Caller, domain: str) -> dict[str, object]:
        """The domain's profile: its attributes, `catchall` and its usage counters."""
        domain = parse_domain(domain)
        entry = require_domain(self._repo, caller, domain, ["*"])
        data = render_entry(entry)
        data.update(counters.ensure_counters(self._repo, domain, entry))
        data["catchall"] = self._catchall.targets(domain)
        if caller.is_global_admin:
            return data
        return hide_disabled(DOMAIN_PROFILES, disabled_profiles(entry, DOMAIN_SETTING), data)

    # -- creating -----------------------------------------------------------------------

    def create(self, caller: Caller, domain: str, params: Mapping[str, str]) -> None:
        domain = parse_domain(domain)
        params = DOMAIN.request(params, creating=True)  # `name` is optional (no `cn` then)
        if not rdn_fits("domainName", domain):
            raise BadRequest(Code.INVALID_DOMAIN_NAME,
                             detail="the domain name is longer than the directory can store")
        # Before anything reveals whether the name is taken, or acts on it.
        self._limits.require_domain_creator(caller)
        self._finish_earlier_delete(caller, domain)
        self._refuse_taken(domain)
        draft = EntryDraft({
            "objectClass": list(DOMAIN.object_classes), "domainName": [domain],
            "mtaTransport": [self._settings.default_mta_transport],
            "accountStatus": ["active"], "enabledService": ["mail"],
            **{name: ["0"] for name in counters.ATTRIBUTES}})
        DOMAIN.apply(draft, params, self._context(caller, domain), creating=True)
        if not caller.is_global_admin:
            draft.add("domainAdmin", caller.mail)  # a normal admin manages what it creates
        self._limits.create_domain(caller, lambda: self._add_tree(domain, draft.attributes()),
                                   lambda: self._remove_tree(domain))

    def _finish_earlier_delete(self, caller: Caller, domain: str) -> None:
        """A delete of a namesake left unfinished is finished first, if the caller began it
        (or is a global admin); another's makes the create wait."""
        pending = self._completions.pending(f"@{domain}")
        if caller.is_global_admin or all(i.data.get("admin") == caller.mail for i in pending):
            self._completions.prepare(f"@{domain}")
        else:
            raise ConcurrentUpdate(detail=f"a delete of {domain} is unfinished; its admin's "
                                          "repeat or `doctor --fix` finishes it")

    def _refuse_taken(self, domain: str) -> None:
        """ALREADY_EXISTS when the name is a domain or another domain's alias domain;
        CAN_NOT_BE_LOCAL_DOMAIN when a standalone admin's address is in it (its addresses
        would become mail accounts: a user made at an admin's address could log in in its
        place)."""
        if is_hosted(self._repo, domain):
            raise Conflict(detail=f"{domain} exists already, as a domain or an alias domain")
        admins = self._repo.directory.search(
            self._repo.admin_basedn, f"(mail=*@{escape_filter_value(domain)})", Scope.ONE,
            ["1.1"])
        if next(iter(admins), None) is not None:
            raise BadRequest(Code.CAN_NOT_BE_LOCAL_DOMAIN,
                             detail=f"standalone admins have addresses in {domain}")

    def _add_tree(self, domain: str, attributes: Mapping[str, Sequence[str]]) -> None:
        """The domain entry and its containers; all of it or nothing."""
        try:
            self._repo.directory.add(self._repo.domain_dn(domain), attributes)
        except EntryExists:
            raise Conflict(detail=f"{domain} exists already") from None
        try:
            for container in CONTAINERS:
                self._repo.directory.add(self._repo.layout.container_dn(domain, container),
                                         {"objectClass": ["organizationalUnit", "top"],
                                          "ou": [container]})
        except Exception:
            self._remove_tree(domain)
            raise

    def _remove_tree(self, domain: str) -> None:
        try:
            self._repo.directory.delete(self._repo.domain_dn(domain), subtree=True)
        except DirectoryUnavailable:
            log.error("could not remove the half-created domain %s", domain)
            raise

    # -- updating -----------------------------------------------------------------------

    def update(self, caller: Caller, domain: str,
               params: Mapping[str, str]) -> domainwide.BulkResult | None:
        """Apply the given parameters; returns the domain-wide result, or None."""
        domain = parse_domain(domain)
        params = DOMAIN.request(params, creating=False)
        entry = require_domain(self._repo, caller, domain, ["*"])
        if not caller.is_global_admin:
            refuse_disabled(DOMAIN_PROFILES, disabled_profiles(entry, DOMAIN_SETTING), params,
                            "domain", entry.get("enabledService"))
            if DOMAIN.given(params, who=Who.OVER_EVERY_ACCOUNT):
                require_privileged_accounts_within(self._repo, caller, domain)
        draft = EntryDraft.of(entry)
        DOMAIN.apply(draft, params, self._context(caller, domain), creating=False)
        added, removed = AliasDomains.changed(entry, draft, params)
        catchall = (self._catchall.plan(domain, params["catchall"], draft)
                    if DOMAIN.given(params, effect=Effect.CATCHALL) else None)
        self._repo.directory.modify(self._repo.domain_dn(domain), draft.changes())
        if catchall is not None:
            catchall.write()
        return self._domain_wide(domain, draft, params, added, removed)

    def _context(self, caller: Caller, domain: str) -> _Context:
        return _Context(caller, self._settings, domain, self._refuse_taken)

    def _domain_wide(self, domain: str, draft: EntryDraft, params: Mapping[str, str],
                     added: builtins.list[str],
                     removed: builtins.list[str]) -> domainwide.BulkResult | None:
        result, ran = domainwide.BulkResult(), False
        if DOMAIN.given(params, effect=Effect.ACCOUNTS_STATUS):
            ran = True
            result.merge(domainwide.set_accounts_status(
                self._repo, domain,
                disabled=draft.first("accountStatus") == "disabled"))
        for alias in added:
            ran = True
            result.merge(domainwide.add_alias_domain_addresses(
                self._repo, domain, alias))
        for alias in removed:
            ran = True
            result.merge(domainwide.remove_alias_domain_addresses(
                self._repo, domain, alias))
        return result if ran else None

    # -- deleting -----------------------------------------------------------------------

    def delete(self, caller: Caller, domain: str,
               keep_days: str | int | None = None) -> domainwide.BulkResult:
        """Remove the domain and everything below it, recording every user's mailbox in
        iRedAdmin's deleted_mailboxes (purge date today + keep_days; None or 0: never), the
        policy rows of the domain and its users, and its addresses from every other
        domain's entries. Returns how many entries were removed.

        The mailboxes are recorded, pending, before anything is removed; an interrupted
        delete is finished by a repeat of the request or by `doctor --fix`
        (services/completions.py)."""
        domain = parse_domain(domain)
        purge = purge_date(keep_days)

        def deleted(intent: Intent) -> bool:
            return intent.kind == "delete_domain"
        try:
            entry = require_domain(self._repo, caller, domain, ["entryUUID"])
        except (NotFound, PermissionDenied):
            # A repeat of a delete that failed after removing the domain's entry finishes
            # it; a normal admin no longer manages the domain then, but it began the delete.
            own = [i for i in self._completions.pending(f"@{domain}") if deleted(i) and (
                caller.is_global_admin or i.data.get("admin") == caller.mail)]
            if own and self._completions.prepare(f"@{domain}", done=deleted):
                return domainwide.BulkResult()
            raise
        require_privileged_accounts_within(self._repo, caller, domain)
        if self._completions.prepare(f"@{domain}", done=deleted):
            return domainwide.BulkResult()  # an earlier, interrupted delete finished it
        before = sum(1 for _ in self._repo.directory.search(
            self._repo.domain_dn(domain), "(objectClass=*)", Scope.SUB, ["1.1"]))
        self._completions.run(
            "delete_domain", f"@{domain}",
            {"domain": domain, "admin": caller.mail, "uuid": entry.first("entryUUID"),
             "purge": purge.isoformat() if purge else None,
             "scope": scope_of(self._repo, caller)},
            lambda: None, mailboxes=users_mailboxes(self._repo, domain))
        return domainwide.BulkResult(changed=before)
