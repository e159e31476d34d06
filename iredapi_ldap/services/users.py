"""Mail users: read, list, create, update, delete (API document, "Mail User")."""

import functools
import re
import time

from .. import passwords
from ..addresses import domain_of, is_email
from ..directory import Change, Op, Scope, still_holding
from ..errors import (
    BadRequest,
    Code,
    ConcurrentUpdate,
    Conflict,
    DirectoryUnavailable,
    EntryExists,
    EntryNotFound,
    LimitExceeded,
    NotFound,
)
from ..layout import rdn_fits
from ..model.draft import EntryDraft
from ..model.kinds import DEFAULT_USER_SERVICES, USER_FIELDS
from ..model.mapping import apply_fields, canonical_params
from ..model.profiles import USER_PROFILES, USER_SETTING, hide_disabled, refuse_disabled
from ..model.render import render_entry
from ..numbers import whole_in_range
from . import references
from .access import (
    disabled_profiles,
    domains_administered_by,
    managed_domains,
    read_account,
    require_account,
    require_domain,
    require_global_admin,
    require_within_privileges,
    scope_of,
    without_disabled,
)
from .counters import USERS
from .domains import parse_domain
from .mailboxes import MailboxPaths
from .moves import Mover
from .reservations import MB, DomainLimits, Reservations
from .rules import apply_rules
from .user_rules import USER_RULES, UserContext
from .values import purge_date, refuse_unknown, stored_int

RULE_PARAMS = {p for rule in USER_RULES for p in rule.params}
CREATE_PARAMS = ({f.param for f in USER_FIELDS if f.on_create}
                 | {"password", "password_hash", "quota", "maildir", "aliases", "forwarding"})
UPDATE_PARAMS = ({f.param for f in USER_FIELDS if f.on_update} | RULE_PARAMS
                 | {"quota", "maildir"})
# Parameters that each replace one attribute whatever the entry holds: a global admin's
# update of only these is one modify, without reading the entry first.
WHOLE_ATTRIBUTE_PARAMS = ({f.param for f in USER_FIELDS if f.on_update and not f.setting}
                          - RULE_PARAMS)
MAX_QUOTA_MB = 2**30


# iRedAdmin's address pattern for accounts one logs in with (is_auth_email): word characters,
# `-`, `#`, `&` and dots; no `+` (it starts an address extension), `=`, `/` or `*`.
_NEW_LOCAL_PART = re.compile(r"[a-z0-9_#&-]+(\.[a-z0-9_#&-]+)*")


def parse_user_mail(text, new=False):
    """A user's address, lower-cased; a new one must match iRedAdmin's stricter pattern.
    Nothing is trimmed: an identifier matches whole or not at all."""
    mail = (text or "").lower()
    if not is_email(mail) or (new and not _NEW_LOCAL_PART.fullmatch(mail.split("@")[0])):
        raise BadRequest(Code.INVALID_MAIL, detail=f"not a valid user address: {text!r}")
    # A list's external members live at memberOfGroup=<list>: the longest RDN a new
    # address gets.
    if new and not rdn_fits("memberOfGroup", mail):
        raise BadRequest(Code.INVALID_MAIL, detail="the address is longer than the directory "
                                                "can store")
    return mail


class UserService:
    def __init__(self, directory, layout, store, settings, limits, completions):
        self._limits = limits
        self._completions = completions
        self._directory = directory
        self._layout = layout
        self._store = store
        self._settings = settings
        self._reservations = Reservations(directory, layout)
        self._mover = Mover(directory, layout, self._reservations, completions)
        self._mailboxes = MailboxPaths(directory, layout, store, settings)

    # -- reading ------------------------------------------------------------------------

    def _user(self, caller, mail, attributes=("*",)):
        """(address, entry, domain entry) of a user the caller may act on: in a domain it
        manages, with no privilege beyond its own."""
        mail = parse_user_mail(mail)
        wanted = list(dict.fromkeys([*attributes, "mail", "domainGlobalAdmin"]))
        entry, domain = require_account(self._directory, self._layout, caller, mail,
                                        self._layout.user_dn(mail), "user", wanted)
        require_within_privileges(self._directory, self._layout, caller, entry)
        return mail, entry, domain

    def get(self, caller, mail):
        mail = parse_user_mail(mail)
        if caller.is_global_admin:
            entry = read_account(self._directory, self._layout, caller, mail,
                                 self._layout.user_dn(mail), "user")
            data = render_entry(entry)
        else:
            entry, domain_entry = require_account(self._directory, self._layout, caller, mail,
                                                  self._layout.user_dn(mail), "user")
            data = hide_disabled(USER_PROFILES, disabled_profiles(domain_entry, USER_SETTING),
                                 render_entry(entry))
        if entry.has_value("domainGlobalAdmin", "yes") or \
                entry.has_value("enabledService", "domainadmin"):
            administered = domains_administered_by(self._directory, self._layout, mail)
            if not caller.is_global_admin:  # nothing about domains it does not manage
                mine = set(managed_domains(self._directory, self._layout, caller))
                administered = [name for name in administered if name in mine]
            data["managed_domains"] = administered
        return data

    def list(self, caller, domain, disabled_only=False, email_only=False):
        """The domain's users (as a normal admin may see them), streamed."""
        domain = parse_domain(domain)
        domain_entry = require_domain(self._directory, self._layout, caller, domain,
                                      ["accountSetting"])
        search = f"(&{USERS}(accountStatus=disabled))" if disabled_only else USERS
        disabled = disabled_profiles(domain_entry, USER_SETTING)
        return (without_disabled(caller, USER_PROFILES, disabled, entry)
                for entry in self._directory.search(
                    self._layout.container_dn(domain, "Users"), search, Scope.ONE,
                    ["mail"] if email_only else None))

    # -- creating -----------------------------------------------------------------------

    def create(self, caller, mail, params):
        mail = parse_user_mail(mail, new=True)
        domain = domain_of(mail)
        domain_entry = require_domain(self._directory, self._layout, caller, domain, ["*"])
        params = canonical_params(params)
        refuse_unknown(params, CREATE_PARAMS)
        if not caller.is_global_admin:
            refuse_disabled(USER_PROFILES, disabled_profiles(domain_entry, USER_SETTING),
                            params, "user")
        if not (params.get("password") or params.get("password_hash")):
            raise BadRequest(Code.MISSING_PARAMETER, detail="password or password_hash is required")
        if references.taken(self._directory, self._layout, mail):
            raise Conflict(detail=f"{mail} is already used")
        limits = DomainLimits.of(domain_entry)
        quota = self._quota(params.get("quota", "0"), limits, creating=True)
        draft = self._new_user_draft(caller, mail, domain_entry, params, quota)
        context = self._context(caller, mail, lambda: domain_entry)
        apply_fields(USER_FIELDS, params, draft, creating=True)
        apply_rules(USER_RULES, draft, params, context)
        # A deleted namesake's unfinished clean-up goes first: nothing of it may stick.
        self._completions.prepare(mail, f"@{domain}")
        try:
            self._reservations.add_counted(
                self._layout.user_dn(mail), draft.attributes(), domain, "user", quota,
                reserve=lambda: self._limits.reserve_account(
                    caller, self._reservations, domain, "user", quota, domain_entry))
        except EntryExists:
            raise Conflict(detail=f"{mail} exists already") from None

    def _new_user_draft(self, caller, mail, domain_entry, params, quota):
        local, domain = mail.rsplit("@", 1)
        aliases = [a.lower() for a in domain_entry.get("domainAliasName")]
        draft = EntryDraft({
            "objectClass": ["inetOrgPerson", "mailUser", "shadowAccount", "amavisAccount"],
            "mail": [mail], "uid": [local], "sn": [local], "cn": [local],
            "accountStatus": ["active"], "enabledService": list(DEFAULT_USER_SERVICES),
            "mailQuota": [str(quota)], "amavisLocal": ["TRUE"],
            "mailboxFormat": ["maildir"], "mailboxFolder": ["Maildir"],
            "shadowLastChange": [str(int(time.time() // 86400))],
            "homeDirectory": [self._mailboxes.home(caller, mail, params.get("maildir"))],
            "shadowAddress": [f"{local}@{alias}" for alias in aliases],
        })
        language = domain_entry.first("preferredLanguage")
        if language:
            draft.set("preferredLanguage", [language])
        if domain_entry.first("accountStatus") == "disabled":
            draft.set("domainStatus", ["disabled"])
        return draft

    def _quota(self, text, limits, creating):
        """A quota parameter (MB) in bytes, within the domain's maxUserQuota. On create,
        0 means the domain's defaultQuota."""
        megabytes = whole_in_range(str(text).strip(), 0, MAX_QUOTA_MB)
        if megabytes is None:
            raise BadRequest(detail="quota must be a whole number of MB")
        quota = megabytes * MB
        if creating and quota == 0:
            quota = limits.default_quota
        if limits.max_user_quota and (quota == 0 or quota > limits.max_user_quota):
            raise LimitExceeded(detail=f"the domain allows at most "
                                       f"{limits.max_user_quota // MB} MB per user")
        return quota

    def _context(self, caller, mail, load_domain):
        return UserContext(
            is_global_admin=caller.is_global_admin, settings=self._settings, mail=mail,
            dn=self._layout.user_dn(mail), load_domain=load_domain,
            address_owner=lambda address: references.owner_of(
                self._directory, self._layout, address))

    # -- updating -----------------------------------------------------------------------

    def update(self, caller, mail, params):
        mail = parse_user_mail(mail)
        params = canonical_params(params)
        refuse_unknown(params, UPDATE_PARAMS)
        if not params:
            raise BadRequest(Code.MISSING_PARAMETER, detail="no parameter to change")
        if caller.is_global_admin and params.keys() <= WHOLE_ATTRIBUTE_PARAMS:
            return self._replace_attributes(caller, mail, params)
        entry, load_domain = self._account_and_domain(caller, mail)
        if not caller.is_global_admin:
            refuse_disabled(USER_PROFILES, disabled_profiles(load_domain(), USER_SETTING),
                            params, "user", entry.get("enabledService"))
        draft = EntryDraft.of(entry)
        apply_fields(USER_FIELDS, params, draft, creating=False)
        apply_rules(USER_RULES, draft, params, self._context(caller, mail, load_domain))
        if "maildir" in params:
            draft.set("homeDirectory", [self._mailboxes.home(caller, mail, params["maildir"],
                                                   own_dn=entry.dn)])
        delta = 0
        if "quota" in params:
            quota = self._quota(params["quota"], DomainLimits.of(load_domain()), creating=False)
            delta = quota - stored_int(entry.first("mailQuota"))
            draft.set("mailQuota", [str(quota)])
        domain = domain_of(mail)
        if delta < 0:  # less room used: given back once the user holds less
            self._directory.modify(entry.dn, draft.changes())
            self._reservations.move_quota(domain, delta)
            return
        self._reservations.move_quota(domain, delta)
        try:
            self._directory.modify(entry.dn, draft.changes())
        except DirectoryUnavailable:
            raise  # changed or not: the used quota may stay high until doctor --fix
        except BaseException:
            self._reservations.move_quota(domain, -delta)
            raise

    def _replace_attributes(self, caller, mail, params):
        """Set whole attributes in one modify, asserting the entry is a mail user; when
        there is none, the errors of a read (NO_SUCH_DOMAIN, NO_SUCH_ACCOUNT)."""
        draft = EntryDraft()
        apply_fields(USER_FIELDS, params, draft, creating=False)
        changes = [Change(name, Op.REPLACE, tuple(values))
                   for name, values in draft.assigned().items()]
        try:
            self._directory.modify(self._layout.user_dn(mail), changes,
                                   assertion="(objectClass=mailUser)")
        except (EntryNotFound, ConcurrentUpdate):  # no entry, or not a mail user
            require_domain(self._directory, self._layout, caller, domain_of(mail))
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no user {mail}") from None

    def _account_and_domain(self, caller, mail):
        """(the user's entry, a loader of its domain's entry that reads it at most once).

        A global admin's request reads the domain only if a parameter needs it; a normal
        admin's has read it already, for the scope check.
        """
        dn = self._layout.user_dn(mail)
        if not caller.is_global_admin:
            entry, domain_entry = require_account(self._directory, self._layout, caller, mail,
                                                  dn, "user")
            require_within_privileges(self._directory, self._layout, caller, entry)
            return entry, lambda: domain_entry
        entry = read_account(self._directory, self._layout, caller, mail, dn, "user")
        return entry, functools.cache(lambda: self._directory.get(
            self._layout.domain_dn(domain_of(mail)), ["*"]))

    # -- deleting -----------------------------------------------------------------------

    def delete(self, caller, mail, keep_days=None):
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

        def commit():
            try:  # as read: a mailbox or quota changed meanwhile would be recorded wrong
                self._directory.delete(entry.dn, assertion=still_holding(
                    entry, ("homeDirectory", "mailQuota")))
            except EntryNotFound:  # deleted by a racing request: it records the mailbox
                raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no user {mail}") from None
        self._completions.run(
            "delete_user", mail,
            {"mail": mail, "maildir": maildir, "admin": caller.mail, "domains": [domain],
             "uuid": entry.first("entryUUID"), "purge": purge.isoformat() if purge else None,
             "scope": scope_of(self._directory, self._layout, caller)},
            commit, after=lambda: self._reservations.release(domain, "user", quota=quota),
            mailboxes=[{"username": mail, "domain": domain, "maildir": maildir}])

    # -- renaming -----------------------------------------------------------------------

    def change_email(self, caller, mail, new_mail):
        """Rename the user (modify DN), keeping its mailbox path and password, and make
        every reference and its policy rows follow. Moving to another domain moves its
        counts along."""
        mail = parse_user_mail(mail)
        new_mail = parse_user_mail(new_mail, new=True)
        try:
            mail, entry, _ = self._user(caller, mail, ["*", "entryUUID"])
        except NotFound as exc:  # a repeat of a rename that failed half-way finishes it
            if self._mover.finished_repeat(exc, mail, new_mail, "user"):
                return
            raise
        target = references.check_move(self._directory, self._layout, caller, mail, new_mail)
        self._mover.move(entry, mail, new_mail, "Users", "user",
                         self._renamed_changes(entry, mail, new_mail, target), target,
                         scope_of(self._directory, self._layout, caller),
                         quota=stored_int(entry.first("mailQuota")))

    def _renamed_changes(self, entry, mail, new_mail, target_domain):
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
        if draft.first("uid", "").lower() == old_local:
            draft.set("uid", [new_local])
        disabled = target_domain.first("accountStatus") == "disabled"
        draft.set("domainStatus", ["disabled"] if disabled else [])
        return draft.changes()

    def _alias_domains_of(self, domain):
        entry = self._directory.get(self._layout.domain_dn(domain), ["domainAliasName"])
        return [] if entry is None else entry.get("domainAliasName")

    def verify_password(self, caller, mail, password):
        require_global_admin(caller)
        _, entry, _ = self._user(caller, mail, ["userPassword"])
        if not passwords.verify(password, entry.get("userPassword")):
            raise BadRequest(Code.PW_MISMATCH, detail="the password does not match")

