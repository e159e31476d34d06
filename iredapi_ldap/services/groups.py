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

from __future__ import annotations

import builtins
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from ..addresses import domain_of
from ..directory import Change, Directory, Entry, Op, Scope, WindowResult
from ..errors import (
    ApiError,
    BadRequest,
    Code,
    ConcurrentUpdate,
    Conflict,
    EntryExists,
    EntryNotFound,
    NotFound,
)
from ..model.draft import EntryDraft
from ..model.kinds import ALIAS, EXTERNALS, LIST, MEMBERS
from ..model.params import Kind
from ..model.parsing import parse_domain, parse_user_mail
from ..model.render import render_entry
from ..model.sets import SetChange
from . import list_members, listing, references
from .access import (
    hosting_domain,
    read_account,
    require_account,
    require_domain,
    scope_of,
)
from .moves import Mover
from .repository import Repository
from .reservations import Reservations

if TYPE_CHECKING:
    from .auth import Caller
    from .completions import Completions
    from .limits import AdminLimits

log = logging.getLogger(__name__)




class _Groups:
    kind: Kind         # ALIAS or LIST: where they live, what counts them, their rows

    def __init__(self, repo: Repository, limits: AdminLimits, completions: Completions) -> None:
        self._repo = repo
        self._limits = limits
        self._completions = completions
        self._reservations = Reservations(repo)
        self._mover = Mover(repo, self._reservations, completions)

    if TYPE_CHECKING:  # each kind's own (Aliases, MailingLists); declared for mypy only
        def members(self, mail: str, entry: Entry) -> builtins.list[str]: ...

        def members_of(self, entries: Sequence[Entry]) -> dict[str, builtins.list[str]]:
            """{address: members} of each of `entries`, as `members` gives them."""

        def _holders(self, mail: str, entry: Entry,
                     addresses: Sequence[str] | None = None) -> dict[str, builtins.list[str]]:
            ...

        def _write_members(self, mail: str, added: Sequence[str], removed: Sequence[str],
                           held: Mapping[str, Sequence[str]], domain_entry: Entry,
                           scope: Sequence[str] | None = None) -> None: ...

    def _dn(self, mail: str) -> str:
        return self._repo.dn(self.kind, mail)

    def _entry(self, caller: Caller, mail: str) -> tuple[str, Entry, Entry]:
        mail = parse_user_mail(mail)
        entry, domain_entry = require_account(self._repo, caller, mail,
                                              self._dn(mail), self.kind.name, ("*", "entryUUID"))
        return mail, entry, domain_entry

    # -- reading ------------------------------------------------------------------------

    def get(self, caller: Caller, mail: str) -> dict[str, object]:
        mail = parse_user_mail(mail)
        entry = read_account(self._repo, caller, mail, self._dn(mail), self.kind.name)
        data = render_entry(entry)
        data["members"] = self.members(mail, entry)
        return data

    def list(self, caller: Caller, domain: str, email_only: bool = False,
             disabled_only: bool = False) -> Iterator[Entry]:
        base, search = self._listing(caller, domain, disabled_only)
        return self._repo.directory.search(base, search, Scope.ONE,
                                           ["mail"] if email_only else None)

    def page(self, caller: Caller, domain: str, after: str | None, limit: int,
             email_only: bool = False, disabled_only: bool = False) -> WindowResult:
        """The `limit` entries of the domain whose addresses come first after `after`."""
        base, search = self._listing(caller, domain, disabled_only)
        return listing.page(self._repo, self.kind, base, search, after, limit, email_only)

    def _listing(self, caller: Caller, domain: str, disabled_only: bool) -> tuple[str, str]:
        domain = parse_domain(domain)
        require_domain(self._repo, caller, domain)
        search = self.kind.search_filter
        if disabled_only:
            search = f"(&{search}(accountStatus=disabled))"
        return self._repo.container_dn(domain, self.kind), search

    def profiles(self, entries: Iterable[Entry]) -> Iterator[dict[str, object]]:
        """`entries` as their GET shows them, `members` included: the members of a batch
        of entries are read at once (`members_of`), not entry by entry."""
        for batch in listing.batched(entries):
            found = self.members_of(batch)
            for entry in batch:
                data = render_entry(entry)
                data["members"] = found.get(str(entry.first("mail", "")).lower(), [])
                yield data

    # -- writing ------------------------------------------------------------------------

    def create(self, caller: Caller, mail: str, params: Mapping[str, str]) -> None:
        mail = parse_user_mail(mail, new=True)
        domain = domain_of(mail)
        domain_entry = require_domain(self._repo, caller, domain, ["*", "entryUUID"])
        params = self.kind.request(params, creating=True)
        if references.taken(self._repo, mail):
            raise Conflict(detail=f"{mail} is already used")
        draft = self._new_draft(mail, domain_entry)
        self.kind.apply(draft, params, caller, creating=True)
        change = MEMBERS.change(params)
        wanted = change.result([]) if change else []
        self._check_members(caller, mail, wanted)
        self._completions.prepare(mail, f"@{domain}")
        try:
            self._add(mail, draft, wanted, domain_entry, reserve=lambda: (
                self._limits.reserve_account(caller, self._reservations, domain, self.kind.name,
                                             entry=domain_entry)),
                      scope=scope_of(self._repo, caller))
        except EntryExists:
            raise Conflict(detail=f"{mail} exists already") from None

    def _new_draft(self, mail: str, domain_entry: Entry) -> EntryDraft:
        local = mail.split("@")[0]
        draft = EntryDraft({
            "objectClass": list(self.kind.object_classes), "mail": [mail], "cn": [local],
            "accountStatus": ["active"], "enabledService": ["mail", "deliver"],
            "shadowAddress": [f"{local}@{a.lower()}"
                              for a in domain_entry.get("domainAliasName")]})
        if domain_entry.first("accountStatus") == "disabled":
            draft.set("domainStatus", ["disabled"])
        return draft

    def _add(self, mail: str, draft: EntryDraft, wanted: Sequence[str], domain_entry: Entry,
             reserve: Callable[[], None], scope: Sequence[str] | None = None) -> None:
        self._reservations.add_counted(self._dn(mail), draft.attributes(), domain_of(mail),
                                       self.kind.name, reserve=reserve)

    def update(self, caller: Caller, mail: str, params: Mapping[str, str]) -> None:
        params = self.kind.request(params, creating=False)   # bad names: before any read
        mail, entry, domain_entry = self._entry(caller, mail)
        draft = EntryDraft.of(entry)
        self.kind.apply(draft, params, caller, creating=False)
        change = MEMBERS.change(params)
        if change is not None:
            # Only the members that come and go are looked at and written: the cost of a
            # change does not grow with the group (and a repeat finishes a cut-short one).
            held = self._holders(mail, entry, None if change.whole is not None
                                 else change.named)
            added, removed = change.difference(list(held))
            self._check_members(caller, mail, added)

        self._repo.directory.modify(entry.dn, draft.changes())
        if change is not None:
            self._write_members(mail, added, removed, held, domain_entry,
                                scope_of(self._repo, caller))

    def delete(self, caller: Caller, mail: str) -> None:
        """Remove the alias or list and every reference to it (services/completions.py)."""
        mail = parse_user_mail(mail)
        try:
            mail, entry, _ = self._entry(caller, mail)
        except NotFound as exc:  # a repeat of a delete that failed half-way finishes it
            if exc.code == Code.NO_SUCH_ACCOUNT.name and self._completions.prepare(
                    mail, f"@{domain_of(mail)}",
                    done=lambda i: i.kind == f"delete_{self.kind.name}",
                    racing=[mail]):
                return
            raise
        self._completions.prepare(mail, f"@{domain_of(mail)}", racing=[mail])

        def commit() -> None:
            try:
                self._repo.directory.delete(entry.dn)
            except EntryNotFound:
                raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {self.kind.name} {mail}") from None
        domain = domain_of(mail)
        self._completions.run(
            f"delete_{self.kind.name}", mail,
            {"mail": mail, "domains": [domain], "uuid": entry.first("entryUUID"),
             "scope": scope_of(self._repo, caller)}, commit,
            after=lambda: self._reservations.release(domain, self.kind.name))

    # -- members ------------------------------------------------------------------------

    def _check_members(self, caller: Caller, mail: str, newcomers: Iterable[str]) -> None:
        """Refuse the group as its own member, and any newcomer `_check_member` refuses."""
        for member in newcomers:
            if member == mail:
                raise BadRequest(Code.INVALID_MEMBER, detail=f"{mail} cannot be its own member")
            self._check_member(caller, member)

    def _check_member(self, caller: Caller, member: str) -> None:
        """A member in a hosted domain, or in an alias domain of one, must exist, and that
        hosted domain must be one the caller manages (a list writes to its members'
        entries)."""
        domain = hosting_domain(self._repo, domain_of(member))
        if domain is None:
            return  # an outside address
        require_domain(self._repo, caller, domain)
        if references.owner_of(self._repo, member) is None:
            raise BadRequest(Code.INVALID_MEMBER, detail=f"member {member} does not exist")


class Aliases(_Groups):
    kind = ALIAS

    def members(self, mail: str, entry: Entry) -> list[str]:
        return [m.lower() for m in entry.get("mailForwardingAddress")]

    def members_of(self, entries: Sequence[Entry]) -> dict[str, list[str]]:
        """Its members are values of its own entry: no search."""
        return {str(e.first("mail", "")).lower(): self.members("", e) for e in entries}

    def _holders(self, mail: str, entry: Entry,
                 addresses: Sequence[str] | None = None) -> dict[str, list[str]]:
        """{member: [the alias's DN]}: its members are values of its own entry, read
        already."""
        return {member: [entry.dn] for member in self.members(mail, entry)}

    def _add(self, mail: str, draft: EntryDraft, wanted: Sequence[str], domain_entry: Entry,
             reserve: Callable[[], None], scope: Sequence[str] | None = None) -> None:
        draft.set("mailForwardingAddress", wanted)  # its members are its own attribute
        super()._add(mail, draft, wanted, domain_entry, reserve)

    def _write_members(self, mail: str, added: Sequence[str], removed: Sequence[str],
                       held: Mapping[str, Sequence[str]], domain_entry: Entry,
                       scope: Sequence[str] | None = None) -> None:
        """Only the members that come and go are written (value by value), so that a
        member another request added or removed meanwhile stays as that request left it."""
        dn = self._dn(mail)
        references.change_values(self._repo.directory, dn, "mailForwardingAddress", Op.DELETE,
                                 removed)
        references.change_values(self._repo.directory, dn, "mailForwardingAddress", Op.ADD, added)
        # A hosted member deleted meanwhile (its references already cleaned up) would
        # otherwise wait here for the next account of its address.
        gone = [m for m in added if hosting_domain(self._repo, domain_of(m))
                and references.owner_of(self._repo, m) is None]
        references.change_values(self._repo.directory, dn, "mailForwardingAddress", Op.DELETE, gone)

    def change_email(self, caller: Caller, mail: str, new_mail: str) -> None:
        """Rename the alias and make every reference follow."""
        mail = parse_user_mail(mail)
        new_mail = parse_user_mail(new_mail, new=True)
        try:
            mail, entry, _ = self._entry(caller, mail)
        except NotFound as exc:  # a repeat of a rename that failed half-way finishes it
            if self._mover.finished_repeat(exc, mail, new_mail, self.kind):
                return
            raise
        target = references.check_move(self._repo, caller, mail, new_mail)
        local = new_mail.split("@")[0]
        changes = [
            Change("shadowAddress", Op.REPLACE, tuple(
                f"{local}@{a.lower()}" for a in target.get("domainAliasName"))),
            Change("domainStatus", Op.REPLACE,
                   ("disabled",) if target.first("accountStatus") == "disabled" else ())]
        self._mover.move(entry, mail, new_mail, self.kind, changes,
                         target, scope_of(self._repo, caller))


class MailingLists(_Groups):
    kind = LIST

    def _externals_dn(self, mail: str) -> str:
        return self._repo.dn(EXTERNALS, mail)

    def members(self, mail: str, entry: Entry | None = None) -> list[str]:
        return list_members.members(self._repo, mail)

    def members_of(self, entries: Sequence[Entry]) -> dict[str, list[str]]:
        return list_members.members_of_lists(
            self._repo, [str(e.first("mail", "")).lower() for e in entries])

    def _holders(self, mail: str, entry: Entry | None = None,
                 addresses: Sequence[str] | None = None) -> dict[str, list[str]]:
        return list_members.holders(self._repo, mail, addresses)

    def _add(self, mail: str, draft: EntryDraft, wanted: Sequence[str], domain_entry: Entry,
             reserve: Callable[[], None], scope: Sequence[str] | None = None) -> None:
        """The members' entries first (they carry the membership), then the list."""
        self._reservations.add_counted(
            self._dn(mail), draft.attributes(), domain_of(mail), self.kind.name, reserve=reserve,
            before=lambda: self._reconcile(mail, wanted, domain_entry, scope),
            undo_before=lambda: self._quietly_unwrite(mail, domain_entry, scope))

    def _reconcile(self, mail: str, wanted: Sequence[str], domain_entry: Entry,
                   scope: Sequence[str] | None) -> None:
        """Make the members those of `wanted`, from whatever carries the list now (e.g.
        what a cut-short earlier request left)."""
        held = self._holders(mail)
        added, removed = SetChange(whole=tuple(wanted)).difference(list(held))
        self._write_members(mail, added, removed, held, domain_entry, scope)

    def _quietly_unwrite(self, mail: str, domain_entry: Entry,
                         scope: Sequence[str] | None) -> None:
        try:
            self._reconcile(mail, [], domain_entry, scope)
        except ApiError as exc:  # left for `doctor`, which finds members of no list
            log.warning("could not take the members of %s back: %s", mail, exc)

    def _write_members(self, mail: str, added: Sequence[str], removed: Sequence[str],
                       held: Mapping[str, Sequence[str]], domain_entry: Entry,
                       scope: Sequence[str] | None = None) -> None:
        """Write what joins and leaves; `held` says where the leaving members are
        (`_holders`). A newcomer with an entry of its own (hosted) in the domains the
        caller manages (`scope`; None: all) gets `memberOfGroup`; the others become values
        of the external entry's `mail` (a normal admin never adds to another tenant's
        entries, even for a member hosted there since it was added). A newcomer whose
        entry elsewhere carries the list already (a global admin added it) stays so; one
        that leaves loses the list's address, which is all that is ever taken from such an
        entry. Idempotent."""
        roots = None if scope is None else tuple(
            self._repo.domain_dn(domain).lower() for domain in scope)
        externals = self._externals_dn(mail)
        owners: dict[str, Entry] = {}
        outside: list[str] = []
        for member in added:
            owner = references.owner_entry(self._repo, member, ["memberOfGroup"])
            if owner and (roots is None or owner.dn.lower().endswith(roots)
                          or owner.has_value("memberOfGroup", mail)):
                owners[owner.dn.lower()] = owner
            else:
                outside.append(member)
        for dn in dict.fromkeys(dn for member in removed for dn in held.get(member, ())):
            if dn != externals and dn.lower() not in owners:
                _change_value(self._repo.directory, dn, Op.DELETE, mail)
        for owner in owners.values():
            if not owner.has_value("memberOfGroup", mail):
                _change_value(self._repo.directory, owner.dn, Op.ADD, mail)
        self._write_externals(mail, outside, [m for m in removed
                                              if externals in held.get(m, ())], domain_entry)

    def _write_externals(self, mail: str, joining: list[str], leaving: list[str],
                         domain_entry: Entry) -> None:
        """Add and delete values of the external entry's `mail`: the entry is made for its
        first value and removed with its last."""
        dn = self._externals_dn(mail)
        references.change_values(self._repo.directory, dn, "mail", Op.DELETE, leaving)
        if joining and not references.change_values(self._repo.directory, dn, "mail", Op.ADD,
                                                    joining):
            attributes = {"objectClass": list(EXTERNALS.object_classes), "memberOfGroup": [mail],
                          "mail": joining, "accountStatus": ["active"],
                          "enabledService": ["mail", "deliver"]}
            if domain_entry.first("accountStatus") == "disabled":
                attributes["domainStatus"] = ["disabled"]
            try:
                self._repo.directory.add(dn, attributes)
            except EntryExists:  # made meanwhile (or they were all there already)
                references.change_values(self._repo.directory, dn, "mail", Op.ADD, joining)
        elif leaving:
            with contextlib.suppress(ConcurrentUpdate, EntryNotFound):  # it has some left
                self._repo.directory.delete(dn, assertion="(!(mail=*))")


def _change_value(directory: Directory, dn: str, op: Op, value: str) -> None:
    references.change_values(directory, dn, "memberOfGroup", op, [value])
