"""Mail users: read, list, create, update, delete (API document, "Mail User")."""

from __future__ import annotations

import builtins
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from .. import passwords
from ..addresses import domain_of
from ..directory import Change, Entry, Op, Scope, WindowResult, still_holding
from ..errors import (
    BadRequest,
    Code,
    ConcurrentUpdate,
    Conflict,
    DirectoryUnavailable,
    EntryExists,
    EntryNotFound,
    NotFound,
    no_such_domain,
)
from ..model.draft import EntryDraft
from ..model.kinds import DEFAULT_USER_SERVICES, USER
from ..model.params import Effect
from ..model.parsing import parse_domain, parse_user_mail, purge_date, stored_int
from ..model.profiles import USER_PROFILES, USER_SETTING, hide_disabled, refuse_disabled
from ..model.render import render_entry
from ..model.user_rules import UserContext
from . import listing, references
from .access import (
    accounts_beyond,
    disabled_profiles,
    domains_administered_by,
    managed_domains,
    privileges_beyond,
    read_account,
    require_account,
    require_domain,
    require_global_admin,
    require_within_privileges,
    scope_of,
    without_disabled,
)
from .counters import USERS
from .hidden import HiddenAttributes
from .mailboxes import Known, MailboxPaths
from .moves import Mover
from .repository import Repository
from .reservations import Reservations
from .usage import usage_fields

if TYPE_CHECKING:
    from ..config import Settings
    from ..policy.base import PolicyStore
    from ..policy.journal import Intent
    from .auth import Caller
    from .completions import Completions
    from .limits import AdminLimits

# Parameters that each replace one attribute whatever the entry holds: a global admin's
# update of only these is one modify, without reading the entry first.
WHOLE_ATTRIBUTE_PARAMS = frozenset(
    row.name for row in USER.params if row.on_update and row.codec is not None
    and not row.setting and row.rule is None and row.effect is None)


class UserService:
    def __init__(self, repo: Repository, store: PolicyStore, settings: Settings,
                 limits: AdminLimits, completions: Completions) -> None:
        self._limits = limits
        self._completions = completions
        self._repo = repo
        self._store = store
        self._settings = settings
        self._reservations = Reservations(repo)
        self._mover = Mover(repo, self._reservations, completions)
        self._mailboxes = MailboxPaths(repo, store, settings)
        self._hidden = HiddenAttributes(settings.api_hidden_user_profiles)

    # -- reading ------------------------------------------------------------------------

    def _user(self, caller: Caller, mail: str,
              attributes: Sequence[str] = ("*",)) -> tuple[str, Entry, Entry]:
        """(address, entry, domain entry) of a user the caller may act on: in a domain it
        manages, with no privilege beyond its own."""
        mail = parse_user_mail(mail)
        wanted = list(dict.fromkeys([*attributes, "mail", "domainGlobalAdmin"]))
        entry, domain = require_account(self._repo, caller, mail,
                                        self._repo.dn(USER, mail), "user", wanted)
        require_within_privileges(self._repo, caller, entry)
        return mail, entry, domain

    def get(self, caller: Caller, mail: str) -> dict[str, object]:
        mail = parse_user_mail(mail)
        if caller.is_global_admin:
            entry = read_account(self._repo, caller, mail, self._repo.dn(USER, mail), "user")
            data = render_entry(self._hidden.apply(entry), hidden=())
        else:
            entry, domain_entry = require_account(self._repo, caller, mail,
                                                  self._repo.dn(USER, mail), "user")
            beyond = self._hidden.shows_password and \
                privileges_beyond(self._repo, caller, entry) is not None
            data = hide_disabled(USER_PROFILES, disabled_profiles(domain_entry, USER_SETTING),
                                 render_entry(self._hidden.apply(entry, beyond), hidden=()))
        if entry.has_value("domainGlobalAdmin", "yes") or \
                entry.has_value("enabledService", "domainadmin"):
            administered = domains_administered_by(self._repo, mail)
            if not caller.is_global_admin:  # nothing about domains it does not manage
                mine = set(managed_domains(self._repo, caller))
                administered = [name for name in administered if name in mine]
            data["managed_domains"] = administered
        data.update(usage_fields(self._store.mailbox_usage([mail]).get(mail)))
        return data

    def list(self, caller: Caller, domain: str, disabled_only: bool = False,
             email_only: bool = False) -> Iterator[Entry]:
        """The domain's users (as a normal admin may see them, without the attributes
        API_HIDDEN_USER_PROFILES hides), streamed."""
        base, search, shown = self._listing(caller, domain, disabled_only, email_only)
        return (shown(entry) for entry in self._repo.directory.search(
            base, search, Scope.ONE, ["mail"] if email_only else None))

    def page(self, caller: Caller, domain: str, after: str | None, limit: int,
             disabled_only: bool = False, email_only: bool = False) -> WindowResult:
        """The `limit` users of the domain whose addresses come first after `after`."""
        base, search, shown = self._listing(caller, domain, disabled_only, email_only)
        return listing.page(self._repo, USER, base, search, after, limit, email_only, shown)

    def _listing(self, caller: Caller, domain: str, disabled_only: bool, email_only: bool
                 ) -> tuple[str, str, Callable[[Entry], Entry]]:
        """(search base, filter, what the caller may see of an entry) of a listing."""
        domain = parse_domain(domain)
        domain_entry = require_domain(self._repo, caller, domain, ["accountSetting"])
        search = f"(&{USERS}(accountStatus=disabled))" if disabled_only else USERS
        disabled = disabled_profiles(domain_entry, USER_SETTING)
        beyond = accounts_beyond(self._repo, caller, domain) \
            if self._hidden.shows_password and not email_only else {}

        def shown(entry: Entry) -> Entry:
            return without_disabled(caller, USER_PROFILES, disabled, self._hidden.apply(
                entry, str(entry.first("mail", "")).lower() in beyond))
        return self._repo.container_dn(domain, USER), search, shown

    def with_usage(self, profiles: Iterable[dict[str, object]],
                   batch_size: int = listing.BATCH) -> Iterator[dict[str, object]]:
        """`profiles` (rendered users) with what Dovecot recorded of their mailboxes
        (`used_quota`, `last_login`): one query per `batch_size` of them."""
        for batch in listing.batched(profiles, batch_size):
            found = self._store.mailbox_usage([str(p.get("mail", "")).lower() for p in batch])
            for profile in batch:
                profile.update(usage_fields(found.get(str(profile.get("mail", "")).lower())))
                yield profile

    # -- creating -----------------------------------------------------------------------

    def create(self, caller: Caller, mail: str, params: Mapping[str, str]) -> None:
        mail = parse_user_mail(mail, new=True)
        domain = domain_of(mail)
        domain_entry = require_domain(self._repo, caller, domain, ["*", "entryUUID"])
        params = USER.request(params, creating=True)
        if not caller.is_global_admin:
            refuse_disabled(USER_PROFILES, disabled_profiles(domain_entry, USER_SETTING),
                            params, "user")
        home, pending = self._free_address_and_home(mail, with_home="maildir" not in params)
        draft = self._new_user_draft(mail, domain_entry, home)
        # 0 MB, or none given: the domain's default quota.
        USER.apply(draft, {"quota": "0", **params},
                   self._context(caller, mail, lambda: domain_entry, creating=True),
                   creating=True)
        quota = stored_int(draft.first("mailQuota"))
        # A deleted namesake's unfinished clean-up goes first: nothing of it may stick.
        self._completions.prepare(mail, f"@{domain}", pending=pending)
        try:
            self._reservations.add_counted(
                self._repo.dn(USER, mail), draft.attributes(), domain, "user", quota,
                reserve=lambda: self._limits.reserve_account(
                    caller, self._reservations, domain, "user", quota, domain_entry))
        except EntryExists:
            raise Conflict(detail=f"{mail} exists already") from None

    def _free_address_and_home(self, mail: str, with_home: bool
                               ) -> tuple[str | None, builtins.list[Intent] | None]:
        """Refuse `mail` when an account has it (ALREADY_EXISTS); with `with_home`, the path
        of its new mailbox (else the `maildir` row's rule sets it), and the unfinished
        writes about it and its domain, when they were read together (else None).

        One directory search asks whether a user, alias or list has the address or a
        mailbox lies at or above the first path tried: when nothing does (the usual case),
        that answers both, and one SQL statement reads the kept mailboxes near the path
        with the unfinished writes; else each is asked on its own. Either way the
        questions are asked in the same order, with the answers of `references.taken`,
        `MailboxPaths.home` and `Completions.pending`.
        """
        if not with_home:
            if references.taken(self._repo, mail):
                raise Conflict(detail=f"{mail} is already used")
            return None, None
        now, first = self._mailboxes.first_new_home(mail)
        search = f"(|{references.owner_filter(mail)}{self._mailboxes.holders_filter(first)})"
        clear = next(iter(self._repo.directory.search(self._repo.basedn, search, Scope.SUB,
                                                      ["1.1"])), None) is None
        if references.taken(self._repo, mail, unowned=clear):
            raise Conflict(detail=f"{mail} is already used")
        if not clear:
            return self._mailboxes.new_home(mail, now), None
        pending, kept = self._completions.pending_and_kept([mail, f"@{domain_of(mail)}"],
                                                           first)
        return self._mailboxes.new_home(mail, now, Known(first, kept)), pending

    def _new_user_draft(self, mail: str, domain_entry: Entry, home: str | None) -> EntryDraft:
        local, domain = mail.rsplit("@", 1)
        aliases = [a.lower() for a in domain_entry.get("domainAliasName")]
        draft = EntryDraft({
            "objectClass": list(USER.object_classes),
            "mail": [mail], "uid": [local], "sn": [local], "cn": [local],
            "accountStatus": ["active"], "enabledService": list(DEFAULT_USER_SERVICES),
            "amavisLocal": ["TRUE"], "mailboxFormat": ["maildir"], "mailboxFolder": ["Maildir"],
            "shadowLastChange": [str(int(time.time() // 86400))],
            "shadowAddress": [f"{local}@{alias}" for alias in aliases],
        })
        if home is not None:
            draft.set("homeDirectory", [home])
        language = domain_entry.first("preferredLanguage")
        if language:
            draft.set("preferredLanguage", [language])
        if domain_entry.first("accountStatus") == "disabled":
            draft.set("domainStatus", ["disabled"])
        return draft

    def _context(self, caller: Caller, mail: str, load_domain: Callable[[], Entry],
                 creating: bool = False, own_dn: str | None = None) -> UserContext:
        return UserContext(
            is_global_admin=caller.is_global_admin, settings=self._settings, mail=mail,
            dn=self._repo.dn(USER, mail), creating=creating, load_domain=load_domain,
            address_owner=lambda address: references.owner_of(
                self._repo, address),
            mailbox_home=lambda text: self._mailboxes.home(caller, mail, text, own_dn=own_dn))

    # -- updating -----------------------------------------------------------------------

    def update(self, caller: Caller, mail: str, params: Mapping[str, str]) -> None:
        mail = parse_user_mail(mail)
        params = USER.request(params, creating=False)
        if caller.is_global_admin and params.keys() <= WHOLE_ATTRIBUTE_PARAMS:
            return self._replace_attributes(caller, mail, params)
        entry, load_domain = self._account_and_domain(caller, mail)
        if not caller.is_global_admin:
            refuse_disabled(USER_PROFILES, disabled_profiles(load_domain(), USER_SETTING),
                            params, "user", entry.get("enabledService"))
        draft = EntryDraft.of(entry)
        USER.apply(draft, params, self._context(caller, mail, load_domain, own_dn=entry.dn),
                   creating=False)
        delta = 0
        if USER.given(params, effect=Effect.QUOTA_COUNTED):
            delta = stored_int(draft.first("mailQuota")) - stored_int(entry.first("mailQuota"))
        domain = domain_of(mail)
        if delta < 0:  # less room used: given back once the user holds less
            self._repo.directory.modify(entry.dn, draft.changes())
            self._reservations.move_quota(domain, delta)
            return
        self._reservations.move_quota(domain, delta)
        try:
            self._repo.directory.modify(entry.dn, draft.changes())
        except DirectoryUnavailable:
            raise  # changed or not: the used quota may stay high until doctor --fix
        except BaseException:
            self._reservations.move_quota(domain, -delta)
            raise

    def _replace_attributes(self, caller: Caller, mail: str,
                            params: Mapping[str, str]) -> None:
        """Set whole attributes in one modify, asserting the entry is a mail user; when
        there is none, the errors of a read (NO_SUCH_DOMAIN, NO_SUCH_ACCOUNT)."""
        draft = EntryDraft()
        USER.apply(draft, params, caller, creating=False)
        changes = [Change(name, Op.REPLACE, tuple(values))
                   for name, values in draft.assigned().items()]
        try:
            self._repo.directory.modify(self._repo.dn(USER, mail), changes,
                                        assertion=f"(objectClass={USER.marker})")
        except (EntryNotFound, ConcurrentUpdate):  # no entry, or not a mail user
            require_domain(self._repo, caller, domain_of(mail))
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no user {mail}") from None

    def _account_and_domain(self, caller: Caller,
                            mail: str) -> tuple[Entry, Callable[[], Entry]]:
        """(the user's entry, a loader of its domain's entry that reads it at most once).

        A global admin's request reads the domain only if a parameter needs it; a normal
        admin's has read it already, for the scope check.
        """
        dn = self._repo.dn(USER, mail)
        if not caller.is_global_admin:
            entry, domain_entry = require_account(self._repo, caller, mail, dn, "user")
            require_within_privileges(self._repo, caller, entry)
            return entry, lambda: domain_entry
        entry = read_account(self._repo, caller, mail, dn, "user")

        def load_domain() -> Entry:
            domain = self._repo.directory.get(self._repo.domain_dn(domain_of(mail)), ["*"])
            if domain is None:  # deleted since the user was read
                raise no_such_domain(domain_of(mail))
            return domain
        return entry, functools.cache(load_domain)

    # -- deleting -----------------------------------------------------------------------

    def delete(self, caller: Caller, mail: str, keep_days: str | int | None = None) -> None:
        """Remove the user, every reference to it and its policy rows, and record its
        mailbox for purging (services/completions.py)."""
        purge = purge_date(keep_days)
        mail = parse_user_mail(mail)
        try:
            mail, entry, _ = self._user(caller, mail,
                                        ["homeDirectory", "mailQuota", "entryUUID"])
        except NotFound as exc:  # a repeat of a delete that failed half-way finishes it
            if exc.code == Code.NO_SUCH_ACCOUNT.name and self._completions.prepare(
                    mail, f"@{domain_of(mail)}", done=lambda i: i.kind == "delete_user",
                    racing=[mail]):
                return
            raise
        self._completions.prepare(mail, f"@{domain_of(mail)}", racing=[mail])
        domain, maildir = domain_of(mail), entry.first("homeDirectory", "")
        quota = stored_int(entry.first("mailQuota"))

        def commit() -> None:
            try:  # as read: a mailbox or quota changed meanwhile would be recorded wrong
                self._repo.directory.delete(entry.dn, assertion=still_holding(
                    entry, ("homeDirectory", "mailQuota")))
            except EntryNotFound:  # deleted by a racing request: it records the mailbox
                raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no user {mail}") from None
        self._completions.run(
            "delete_user", mail,
            {"mail": mail, "maildir": maildir, "admin": caller.mail, "domains": [domain],
             "uuid": entry.first("entryUUID"), "purge": purge.isoformat() if purge else None,
             "scope": scope_of(self._repo, caller)},
            commit, after=lambda: self._reservations.release(domain, "user", quota=quota),
            mailboxes=[{"username": mail, "domain": domain, "maildir": maildir}])

    # -- renaming -----------------------------------------------------------------------

    def change_email(self, caller: Caller, mail: str, new_mail: str) -> None:
        """Rename the user (modify DN), keeping its mailbox path and password, and make
        every reference and its policy rows follow. Moving to another domain moves its
        counts along."""
        mail = parse_user_mail(mail)
        new_mail = parse_user_mail(new_mail, new=True)
        try:
            mail, entry, _ = self._user(caller, mail, ["*", "entryUUID"])
        except NotFound as exc:  # a repeat of a rename that failed half-way finishes it
            if self._mover.finished_repeat(exc, mail, new_mail, USER):
                return
            raise
        target = references.check_move(self._repo, caller, mail, new_mail)
        self._mover.move(entry, mail, new_mail, USER,
                         self._renamed_changes(entry, mail, new_mail, target), target,
                         scope_of(self._repo, caller),
                         quota=stored_int(entry.first("mailQuota")))

    def _renamed_changes(self, entry: Entry, mail: str, new_mail: str,
                         target_domain: Entry) -> builtins.list[Change]:
        """uid and the alias-domain twins follow the new address; the domain status is the
        new domain's."""
        draft = EntryDraft.of(entry)
        old_local, new_local = mail.split("@")[0], new_mail.split("@")[0]
        old_twins = {f"{old_local}@{d}".lower()
                     for d in self._alias_domains_of(domain_of(mail))}
        kept = [a for a in draft.get("shadowAddress") if a.lower() not in old_twins]
        twins = [f"{new_local}@{d.lower()}" for d in target_domain.get("domainAliasName")]
        draft.set("shadowAddress", list(dict.fromkeys(kept + twins)))
        draft.set("mail", [new_mail])
        if (draft.first("uid") or "").lower() == old_local:
            draft.set("uid", [new_local])
        disabled = target_domain.first("accountStatus") == "disabled"
        draft.set("domainStatus", ["disabled"] if disabled else [])
        return draft.changes()

    def _alias_domains_of(self, domain: str) -> builtins.list[str]:
        entry = self._repo.directory.get(self._repo.domain_dn(domain), ["domainAliasName"])
        return [] if entry is None else entry.get("domainAliasName")

    def verify_password(self, caller: Caller, mail: str, password: str) -> None:
        require_global_admin(caller)
        _, entry, _ = self._user(caller, mail, ["userPassword"])
        if not passwords.verify(password, entry.get("userPassword")):
            raise BadRequest(Code.PW_MISMATCH, detail="the password does not match")

