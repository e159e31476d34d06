"""Mail aliases and mailing lists: addresses that deliver to members.

Both share one life cycle (`_Groups`): a new address must be free everywhere, creation is
counted within the domain's limit, the entry gets its twins in the domain's alias domains and
the domain's status, and deletion gives the count back and removes every reference. They
differ in where members are kept:
- an alias lists them in its own `mailForwardingAddress` (Postfix virtual_alias_maps);
- a list's internal members carry `memberOfGroup: <list>` on their own entries, and its
  external members are the `mail` values of the list's one `mailExternalUser` entry in
  ou=Externals (Postfix virtual_group_maps; DESIGN.md section 3).
"""

import logging

from ..addresses import domain_of
from ..directory import Change, Op, Scope, escape_dn_value, escape_filter_value
from ..errors import (
    ApiError,
    BadRequest,
    Code,
    Conflict,
    EntryExists,
    EntryNotFound,
    NotFound,
)
from ..model.draft import EntryDraft
from ..model.fields import Email
from ..model.kinds import ALIAS, LIST
from ..model.parsing import parse_domain, parse_user_mail, split_words
from ..model.render import render_entry
from . import references
from .access import (
    hosting_domain,
    read_account,
    require_account,
    require_domain,
    scope_of,
)
from .moves import Mover
from .reservations import Reservations

log = logging.getLogger(__name__)

MEMBER_PARAMS = ("members", "addMember", "removeMember")


class _Groups:
    kind = None           # reservations kind
    container = None      # ou under the domain
    object_class = None
    fields = ()

    def __init__(self, directory, layout, limits, completions):
        self._directory = directory
        self._layout = layout
        self._limits = limits
        self._completions = completions
        self._reservations = Reservations(directory, layout)
        self._mover = Mover(directory, layout, self._reservations, completions)

    def _dn(self, mail):
        domain = domain_of(mail)
        return f"mail={escape_dn_value(mail)},{self._layout.container_dn(domain, self.container)}"

    def _entry(self, caller, mail):
        mail = parse_user_mail(mail)
        entry, domain_entry = require_account(self._directory, self._layout, caller, mail,
                                              self._dn(mail), self.kind, ("*", "entryUUID"))
        return mail, entry, domain_entry

    # -- reading ------------------------------------------------------------------------

    def get(self, caller, mail):
        mail = parse_user_mail(mail)
        entry = read_account(self._directory, self._layout, caller, mail, self._dn(mail),
                             self.kind)
        data = render_entry(entry)
        data["members"] = self.members(mail, entry)
        return data

    def list(self, caller, domain, email_only=False, disabled_only=False):
        domain = parse_domain(domain)
        require_domain(self._directory, self._layout, caller, domain)
        search = f"(objectClass={self.object_class})"
        if disabled_only:
            search = f"(&{search}(accountStatus=disabled))"
        return self._directory.search(self._layout.container_dn(domain, self.container),
                                      search, Scope.ONE, ["mail"] if email_only else None)

    # -- writing ------------------------------------------------------------------------

    def create(self, caller, mail, params):
        mail = parse_user_mail(mail, new=True)
        domain = domain_of(mail)
        domain_entry = require_domain(self._directory, self._layout, caller, domain, ["*"])
        params = self.kind_of.request(params, creating=True)
        if references.taken(self._directory, self._layout, mail):
            raise Conflict(detail=f"{mail} is already used")
        draft = self._new_draft(mail, domain_entry)
        self.kind_of.apply(draft, params, caller, creating=True)
        wanted = self._wanted_members(caller, mail, [], params) or []
        self._completions.prepare(mail, f"@{domain}")
        try:
            self._add(mail, draft, wanted, domain_entry, reserve=lambda: (
                self._limits.reserve_account(caller, self._reservations, domain, self.kind,
                                             entry=domain_entry)),
                      scope=scope_of(self._directory, self._layout, caller))
        except EntryExists:
            raise Conflict(detail=f"{mail} exists already") from None

    def _new_draft(self, mail, domain_entry):
        local = mail.split("@")[0]
        draft = EntryDraft({
            "objectClass": list(self.kind_of.object_classes), "mail": [mail], "cn": [local],
            "accountStatus": ["active"], "enabledService": ["mail", "deliver"],
            "shadowAddress": [f"{local}@{a.lower()}"
                              for a in domain_entry.get("domainAliasName")]})
        if domain_entry.first("accountStatus") == "disabled":
            draft.set("domainStatus", ["disabled"])
        return draft

    def _add(self, mail, draft, wanted, domain_entry, reserve, scope=None):
        self._reservations.add_counted(self._dn(mail), draft.attributes(), domain_of(mail),
                                       self.kind, reserve=reserve)

    def update(self, caller, mail, params):
        mail, entry, domain_entry = self._entry(caller, mail)
        params = self.kind_of.request(params, creating=False)
        draft = EntryDraft.of(entry)
        self.kind_of.apply(draft, params, caller, creating=False)
        current = self.members(mail, entry)
        wanted = self._wanted_members(caller, mail, current, params)

        self._directory.modify(entry.dn, draft.changes())
        if wanted is not None:  # idempotent: a repeat of the request finishes a cut-short one
            self._write_members(mail, current, wanted, domain_entry,
                                scope_of(self._directory, self._layout, caller))

    def delete(self, caller, mail):
        """Remove the alias or list and every reference to it (services/completions.py)."""
        mail = parse_user_mail(mail)
        try:
            mail, entry, _ = self._entry(caller, mail)
        except NotFound as exc:  # a repeat of a delete that failed half-way finishes it
            if exc.code == Code.NO_SUCH_ACCOUNT.name and self._completions.prepare(
                    mail, f"@{domain_of(mail)}", done=lambda i: i.kind == f"delete_{self.kind}",
                    racing=[mail]):
                return
            raise
        self._completions.prepare(mail, f"@{domain_of(mail)}", racing=[mail])

        def commit():
            try:
                self._directory.delete(entry.dn)
            except EntryNotFound:
                raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {self.kind} {mail}") from None
        domain = domain_of(mail)
        self._completions.run(
            f"delete_{self.kind}", mail,
            {"mail": mail, "domains": [domain], "uuid": entry.first("entryUUID"),
             "scope": scope_of(self._directory, self._layout, caller)}, commit,
            after=lambda: self._reservations.release(domain, self.kind))

    # -- members ------------------------------------------------------------------------

    def _wanted_members(self, caller, mail, current, params):
        """The member list after this request (None when it does not change them)."""
        given = [p for p in MEMBER_PARAMS if p in params]
        if "members" in given and len(given) > 1:
            raise BadRequest(Code.CONFLICTING_PARAMETERS, detail=" conflicts with ".join(given))
        if not given:
            return None
        names = {p: [Email(allow_empty=False).encode(p, m)[0] for m in split_words(params[p])]
                 for p in given}
        if "members" in names:
            wanted = names["members"]
        else:
            remove = names.get("removeMember", [])
            wanted = [m for m in current if m not in remove] + [
                m for m in names.get("addMember", []) if m not in current]
        for member in wanted:
            if member == mail:
                raise BadRequest(Code.INVALID_MEMBER, detail=f"{mail} cannot be its own member")
            if member not in current:
                self._check_member(caller, member)
        return list(dict.fromkeys(wanted))

    def _check_member(self, caller, member):
        """A member in a hosted domain, or in an alias domain of one, must exist, and that
        hosted domain must be one the caller manages (a list writes to its members'
        entries)."""
        domain = hosting_domain(self._directory, self._layout, domain_of(member))
        if domain is None:
            return  # an outside address
        require_domain(self._directory, self._layout, caller, domain)
        if references.owner_of(self._directory, self._layout, member) is None:
            raise BadRequest(Code.INVALID_MEMBER, detail=f"member {member} does not exist")


class Aliases(_Groups):
    kind = "alias"
    container = "Aliases"
    object_class = "mailAlias"
    kind_of = ALIAS

    def members(self, mail, entry):
        return [m.lower() for m in entry.get("mailForwardingAddress")]

    def _add(self, mail, draft, wanted, domain_entry, reserve, scope=None):
        draft.set("mailForwardingAddress", wanted)  # its members are its own attribute
        super()._add(mail, draft, wanted, domain_entry, reserve)

    def _write_members(self, mail, current, wanted, domain_entry, scope=None):
        """Only the members that come and go are written, so that a member another request
        added or removed meanwhile stays as that request left it."""
        dn, now = self._dn(mail), set(wanted)
        added = [m for m in wanted if m not in set(current)]
        references.change_values(self._directory, dn, "mailForwardingAddress", Op.DELETE,
                                 [m for m in current if m not in now])
        references.change_values(self._directory, dn, "mailForwardingAddress", Op.ADD, added)
        # A hosted member deleted meanwhile (its references already cleaned up) would
        # otherwise wait here for the next account of its address.
        gone = [m for m in added if hosting_domain(self._directory, self._layout, domain_of(m))
                and references.owner_of(self._directory, self._layout, m) is None]
        references.change_values(self._directory, dn, "mailForwardingAddress", Op.DELETE, gone)

    def change_email(self, caller, mail, new_mail):
        """Rename the alias and make every reference follow."""
        mail = parse_user_mail(mail)
        new_mail = parse_user_mail(new_mail, new=True)
        try:
            mail, entry, _ = self._entry(caller, mail)
        except NotFound as exc:  # a repeat of a rename that failed half-way finishes it
            if self._mover.finished_repeat(exc, mail, new_mail, self.kind):
                return
            raise
        target = references.check_move(self._directory, self._layout, caller, mail, new_mail)
        local = new_mail.split("@")[0]
        changes = [
            Change("shadowAddress", Op.REPLACE, tuple(
                f"{local}@{a.lower()}" for a in target.get("domainAliasName"))),
            Change("domainStatus", Op.REPLACE,
                   ("disabled",) if target.first("accountStatus") == "disabled" else ())]
        self._mover.move(entry, mail, new_mail, self.container, self.kind, changes, target,
                         scope_of(self._directory, self._layout, caller))


class MailingLists(_Groups):
    kind = "list"
    container = "Groups"
    object_class = "mailList"
    kind_of = LIST

    def _externals_dn(self, mail):
        return (f"memberOfGroup={escape_dn_value(mail)},"
                f"{self._layout.container_dn(domain_of(mail), 'Externals')}")

    def members(self, mail, entry=None):
        value = escape_filter_value(mail)
        internal = self._directory.search(
            self._layout.basedn, f"(&(memberOfGroup={value})(|(objectClass=mailUser)"
                                 f"(objectClass=mailAlias)(objectClass=mailList)))",
            Scope.SUB, ["mail"])
        externals = self._directory.get(self._externals_dn(mail), ["mail"])
        found = [str(e.first("mail")).lower() for e in internal]
        found += [m.lower() for m in (externals.get("mail") if externals else [])]
        return sorted(found)

    def _add(self, mail, draft, wanted, domain_entry, reserve, scope=None):
        """The members' entries first (they carry the membership), then the list."""
        self._reservations.add_counted(
            self._dn(mail), draft.attributes(), domain_of(mail), self.kind, reserve=reserve,
            before=lambda: self._write_members(mail, [], wanted, domain_entry, scope),
            undo_before=lambda: self._quietly_unwrite(mail, wanted, domain_entry, scope))

    def _quietly_unwrite(self, mail, wanted, domain_entry, scope):
        try:
            self._write_members(mail, wanted, [], domain_entry, scope)
        except ApiError as exc:  # left for `doctor`, which finds members of no list
            log.warning("could not take the members of %s back: %s", mail, exc)

    def _write_members(self, mail, current, wanted, domain_entry, scope=None):
        """Members with an entry of their own (hosted) in the domains the caller manages
        (`scope`; None: all) get `memberOfGroup`; the others are the external entry's
        `mail` values (a normal admin never adds to another tenant's entries, even for a
        member hosted there since it was added). A member whose entry elsewhere carries
        the list already (a global admin added it) stays so; one no longer wanted loses
        the list's address, which is all that is ever taken from such an entry.
        Idempotent."""
        roots = None if scope is None else tuple(
            self._layout.domain_dn(domain).lower() for domain in scope)
        carriers = [entry.dn for entry in self._directory.search(
            self._layout.basedn, f"(memberOfGroup={escape_filter_value(mail)})",
            Scope.SUB, ["objectClass"]) if not entry.has_value("objectClass",
                                                                "mailExternalUser")]
        carrying = {dn.lower() for dn in carriers}
        owners, external = {}, []
        for member in wanted:
            owner = references.owner_of(self._directory, self._layout, member)
            if owner and (roots is None or owner.lower().endswith(roots)
                          or owner.lower() in carrying):
                owners[owner.lower()] = owner
            else:
                external.append(member)
        for dn in carriers:
            if dn.lower() not in owners:
                _change_value(self._directory, dn, Op.DELETE, mail)
        for owner in owners.values():
            if owner.lower() not in carrying:
                _change_value(self._directory, owner, Op.ADD, mail)
        self._write_externals(mail, external, domain_entry)

    def _write_externals(self, mail, addresses, domain_entry):
        dn = self._externals_dn(mail)
        exists = self._directory.get(dn, ["1.1"]) is not None
        if not addresses:
            if exists:
                self._directory.delete(dn)
            return
        if exists:
            self._directory.modify(dn, [Change("mail", Op.REPLACE, tuple(addresses))])
            return
        attributes = {"objectClass": ["mailExternalUser"], "memberOfGroup": [mail],
                      "mail": addresses, "accountStatus": ["active"],
                      "enabledService": ["mail", "deliver"]}
        if domain_entry.first("accountStatus") == "disabled":
            attributes["domainStatus"] = ["disabled"]
        self._directory.add(dn, attributes)


def _change_value(directory, dn, op, value):
    references.change_values(directory, dn, "memberOfGroup", op, [value])
