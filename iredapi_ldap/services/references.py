"""Every place where one entry names another's address, and keeping them right when that
address is deleted or renamed (alias members, forwarding and catch-all targets, domain
admins, list moderators/owners/allowed senders)."""

from ..addresses import domain_of
from ..directory import Change, Op, Scope, escape_filter_value
from ..errors import ConcurrentUpdate, Conflict, EntryNotFound
from .access import require_domain

REFERENCING = ("mailForwardingAddress", "domainAdmin", "listModerator", "listOwner",
               "listAllowedUser", "memberOfGroup")


def owner_of(directory, layout, address):
    """DN of the user, alias or list that has `address` (as mail or shadowAddress), or None.

    (A list's external-member entry holds outside addresses; it owns none of them.)
    """
    value = escape_filter_value(address)
    found = directory.search(
        layout.basedn, f"(&(|(objectClass=mailUser)(objectClass=mailAlias)"
                       f"(objectClass=mailList))(|(mail={value})(shadowAddress={value})))",
        Scope.SUB, ["1.1"])
    first = next(iter(found), None)
    return first.dn if first else None


def check_move(directory, layout, caller, mail, new_mail):
    """Before renaming `mail` to `new_mail`: the caller must manage the new domain and nobody
    may use the address. Returns the new domain's entry."""
    target = require_domain(directory, layout, caller, domain_of(new_mail), ["*"])
    if new_mail == mail or owner_of(directory, layout, new_mail):
        raise Conflict(detail=f"{new_mail} is already used")
    return target


def _referrers(directory, layout, address):
    value = escape_filter_value(address)
    search = "(|" + "".join(f"({attr}={value})" for attr in REFERENCING) + ")"
    return directory.search(layout.basedn, search, Scope.SUB, list(REFERENCING))


def forget_address(directory, layout, address):
    """Remove `address` from every entry that names it; returns how many entries changed."""
    return _rewrite(directory, layout, address, None)


def rename_address(directory, layout, old, new):
    """Make every entry that names `old` name `new` instead; returns how many changed."""
    return _rewrite(directory, layout, old, new)


def _rewrite(directory, layout, old, new):
    def edit(values):
        kept = [v for v in values if v.lower() != old.lower()]
        if new and len(kept) != len(values) and new.lower() not in {v.lower() for v in kept}:
            kept.append(new)
        return kept
    return _edit_referrers(directory, _referrers(directory, layout, old), edit)


def forget_domain(directory, layout, domain):
    """Remove every address of `domain` from entries outside it (before the domain goes)."""
    suffix = "@" + domain.lower()
    value = escape_filter_value(domain)
    search = "(|" + "".join(f"({attr}=*@{value})" for attr in REFERENCING) + ")"
    inside = "," + layout.domain_dn(domain).lower()
    outside = (entry for entry in directory.search(layout.basedn, search, Scope.SUB,
                                                   list(REFERENCING))
               if not entry.dn.lower().endswith(inside))
    return _edit_referrers(directory, outside,
                           lambda values: [v for v in values
                                           if not v.lower().endswith(suffix)])


def _edit_referrers(directory, entries, edit):
    """Apply `edit(values) -> values` to every referencing attribute of `entries`; returns
    how many entries changed.

    Values are deleted and added one by one, not replaced as a whole: the entry may have
    changed since it was read (a member added meanwhile stays), and a value already gone,
    or already there, is as wanted."""
    changed = 0
    for entry in entries:
        touched = False
        for attr in REFERENCING:
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


def change_values(directory, dn, attribute, op, values):
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
