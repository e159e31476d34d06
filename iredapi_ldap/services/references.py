"""Every place where one entry names another's address, and keeping them right when that
address is deleted or renamed (alias members, forwarding and catch-all targets, domain
admins, list moderators/owners/allowed senders)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..addresses import domain_of
from ..directory import Change, Directory, Entry, Op, Scope, escape_filter_value
from ..errors import ConcurrentUpdate, Conflict, EntryNotFound
from ..model.kinds import ADDRESSED, ADMIN
from .access import require_domain

if TYPE_CHECKING:
    from .auth import Caller
    from .repository import Repository

# (entry, the attributes of it to edit)
Referrer = tuple[Entry, Sequence[str]]

REFERENCING = ("mailForwardingAddress", "domainAdmin", "listModerator", "listOwner",
               "listAllowedUser", "memberOfGroup")


def owner_of(repo: Repository, address: str) -> str | None:
    """DN of the user, alias or list that has `address` (as mail or shadowAddress), or None.

    (A list's external-member entry holds outside addresses; it owns none of them.)
    """
    owner = owner_entry(repo, address)
    return owner.dn if owner else None


def owner_entry(repo: Repository, address: str,
                attributes: Sequence[str] = ("1.1",)) -> Entry | None:
    """The entry (with `attributes`) of the user, alias or list that has `address`, or
    None; see `owner_of`."""
    found = repo.directory.search(repo.basedn, owner_filter(address), Scope.SUB,
                                  list(attributes))
    return next(iter(found), None)


def owner_filter(address: str) -> str:
    """The LDAP filter (below the domains' base) of the account that has `address`: see
    `owner_of`."""
    value = escape_filter_value(address)
    return f"(&{ADDRESSED}(|(mail={value})(shadowAddress={value})))"


def taken(repo: Repository, address: str, unowned: bool = False) -> bool:
    """Whether an account has `address`: a user, alias or list, or a standalone admin (a
    mail account at an admin's address could log in in its place). `unowned`: a search
    for `owner_filter(address)` has found nothing already; only the admins are left."""
    return ((not unowned and owner_of(repo, address) is not None)
            or repo.get(ADMIN, address, ["1.1"]) is not None)


def check_move(repo: Repository, caller: Caller, mail: str, new_mail: str) -> Entry:
    """Before renaming `mail` to `new_mail`: the caller must manage the new domain and nobody
    may use the address. Returns the new domain's entry."""
    target = require_domain(repo, caller, domain_of(new_mail), ["*", "entryUUID"])
    if new_mail == mail or taken(repo, new_mail):
        raise Conflict(detail=f"{new_mail} is already used")
    return target


# What a list's member carries itself: the list's own address. Its list's admin edits it
# wherever the member lives, so that renaming or deleting the list does not leave members
# of another tenant pointing at an address that is gone.
CARRIED = ("memberOfGroup",)


def _referrers(repo: Repository, address: str, within: Sequence[str] | None) -> Iterator[Referrer]:
    """(entry, attributes to edit) for every entry that names `address`."""
    value = escape_filter_value(address)
    search = "(|" + "".join(f"({attr}={value})" for attr in REFERENCING) + ")"
    return _scoped(repo, within,
                   repo.directory.search(repo.basedn, search, Scope.SUB, list(REFERENCING)))


def _scoped(repo: Repository, domains: Sequence[str] | None,
            entries: Iterable[Entry]) -> Iterator[Referrer]:
    """(entry, attributes) pairs: every referencing attribute of the entries in (or of)
    `domains` (all entries when `domains` is None), and only what members carry of the
    others. A normal admin's deletes and renames edit only the entries of the domains it
    manages, but for the addresses of its own lists carried by their members: another
    tenant's forwarding or members are that tenant's."""
    roots = None if domains is None else tuple(
        repo.domain_dn(domain).lower() for domain in domains)
    for entry in entries:
        dn = entry.dn.lower()
        if roots is None or any(dn == root or dn.endswith("," + root) for root in roots):
            yield entry, REFERENCING
        else:
            yield entry, CARRIED


def forget_address(repo: Repository, address: str, within: Sequence[str] | None = None) -> int:
    """Remove `address` from every entry that names it (in the domains `within`, if not
    None); returns how many entries changed."""
    return _rewrite(repo, address, None, within)


def rename_address(repo: Repository, old: str, new: str,
                   within: Sequence[str] | None = None) -> int:
    """Make every entry that names `old` name `new` instead (in the domains `within`, if
    not None); returns how many changed."""
    return _rewrite(repo, old, new, within)


def _rewrite(repo: Repository, old: str, new: str | None, within: Sequence[str] | None) -> int:
    def edit(values: list[str]) -> list[str]:
        kept = [v for v in values if v.lower() != old.lower()]
        if new and len(kept) != len(values) and new.lower() not in {v.lower() for v in kept}:
            kept.append(new)
        return kept
    return _edit_referrers(repo.directory, _referrers(repo, old, within), edit)


def forget_domain(repo: Repository, domain: str, within: Sequence[str] | None = None) -> int:
    """Remove every address of `domain` from entries outside it (in the domains `within`,
    if not None), before the domain goes."""
    suffix = "@" + domain.lower()
    value = escape_filter_value(domain)
    search = "(|" + "".join(f"({attr}=*@{value})" for attr in REFERENCING) + ")"
    inside = "," + repo.domain_dn(domain).lower()
    outside = ((entry, attributes) for entry, attributes in _scoped(
        repo, within, repo.directory.search(repo.basedn, search, Scope.SUB,
                                            list(REFERENCING)))
        if not entry.dn.lower().endswith(inside))
    return _edit_referrers(repo.directory, outside,
                           lambda values: [v for v in values
                                           if not v.lower().endswith(suffix)])


def _edit_referrers(directory: Directory, entries: Iterable[Referrer],
                    edit: Callable[[list[str]], list[str]]) -> int:
    """Apply `edit(values) -> values` to the attributes of each (entry, attributes) of
    `entries`; returns how many entries changed.

    Values are deleted and added one by one, not replaced as a whole: the entry may have
    changed since it was read (a member added meanwhile stays), and a value already gone,
    or already there, is as wanted."""
    changed = 0
    for entry, attributes in entries:
        touched = False
        for attr in attributes:
            values = entry.get(attr)
            kept = edit(values)
            lowered = {v.lower() for v in kept}
            gone = [v for v in values if v.lower() not in lowered]
            present = {v.lower() for v in values}
            new = [v for v in kept if v.lower() not in present]
            touched |= change_values(directory, entry.dn, attr, Op.DELETE, gone)
            touched |= change_values(directory, entry.dn, attr, Op.ADD, new)
        changed += touched
    return changed


def change_values(directory: Directory, dn: str, attribute: str, op: Op,
                  values: Sequence[str]) -> bool:
    """Add (or delete) `values` of `attribute` at `dn`, leaving alone those that are there
    already (or gone already), and an entry that is gone; whether anything was written."""
    if not values:
        return False
    try:
        directory.modify(dn, [Change(attribute, op, tuple(values))])
        return True
    except EntryNotFound:
        return False
    except ConcurrentUpdate:  # one of them is as wanted already: the others one by one
        written = False
        for value in values:
            try:
                directory.modify(dn, [Change(attribute, op, (value,))])
                written = True
            except (ConcurrentUpdate, EntryNotFound):
                continue
        return written
