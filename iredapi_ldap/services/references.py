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
    owner = owner_entry(directory, layout, address)
    return owner.dn if owner else None


def owner_entry(directory, layout, address, attributes=("1.1",)):
    """The entry (with `attributes`) of the user, alias or list that has `address`, or
    None; see `owner_of`."""
    value = escape_filter_value(address)
    found = directory.search(
        layout.basedn, f"(&(|(objectClass=mailUser)(objectClass=mailAlias)"
                       f"(objectClass=mailList))(|(mail={value})(shadowAddress={value})))",
        Scope.SUB, list(attributes))
    return next(iter(found), None)


def taken(directory, layout, address):
    """Whether an account has `address`: a user, alias or list, or a standalone admin (a
    mail account at an admin's address could log in in its place)."""
    return (owner_of(directory, layout, address) is not None
            or directory.get(layout.admin_dn(address), ["1.1"]) is not None)


def check_move(directory, layout, caller, mail, new_mail):
    """Before renaming `mail` to `new_mail`: the caller must manage the new domain and nobody
    may use the address. Returns the new domain's entry."""
    target = require_domain(directory, layout, caller, domain_of(new_mail), ["*"])
    if new_mail == mail or taken(directory, layout, new_mail):
        raise Conflict(detail=f"{new_mail} is already used")
    return target


# What a list's member carries itself: the list's own address. Its list's admin edits it
# wherever the member lives, so that renaming or deleting the list does not leave members
# of another tenant pointing at an address that is gone.
CARRIED = ("memberOfGroup",)


def _referrers(directory, layout, address, within):
    """(entry, attributes to edit) for every entry that names `address`."""
    value = escape_filter_value(address)
    search = "(|" + "".join(f"({attr}={value})" for attr in REFERENCING) + ")"
    return _scoped(layout, within,
                   directory.search(layout.basedn, search, Scope.SUB, list(REFERENCING)))


def _scoped(layout, domains, entries):
    """(entry, attributes) pairs: every referencing attribute of the entries in (or of)
    `domains` (all entries when `domains` is None), and only what members carry of the
    others. A normal admin's deletes and renames edit only the entries of the domains it
    manages, but for the addresses of its own lists carried by their members: another
    tenant's forwarding or members are that tenant's."""
    roots = None if domains is None else tuple(
        layout.domain_dn(domain).lower() for domain in domains)
    for entry in entries:
        dn = entry.dn.lower()
        if roots is None or any(dn == root or dn.endswith("," + root) for root in roots):
            yield entry, REFERENCING
        else:
            yield entry, CARRIED


def forget_address(directory, layout, address, within=None):
    """Remove `address` from every entry that names it (in the domains `within`, if not
    None); returns how many entries changed."""
    return _rewrite(directory, layout, address, None, within)


def rename_address(directory, layout, old, new, within=None):
    """Make every entry that names `old` name `new` instead (in the domains `within`, if
    not None); returns how many changed."""
    return _rewrite(directory, layout, old, new, within)


def _rewrite(directory, layout, old, new, within):
    def edit(values):
        kept = [v for v in values if v.lower() != old.lower()]
        if new and len(kept) != len(values) and new.lower() not in {v.lower() for v in kept}:
            kept.append(new)
        return kept
    return _edit_referrers(directory, _referrers(directory, layout, old, within), edit)


def forget_domain(directory, layout, domain, within=None):
    """Remove every address of `domain` from entries outside it (in the domains `within`,
    if not None), before the domain goes."""
    suffix = "@" + domain.lower()
    value = escape_filter_value(domain)
    search = "(|" + "".join(f"({attr}=*@{value})" for attr in REFERENCING) + ")"
    inside = "," + layout.domain_dn(domain).lower()
    outside = ((entry, attributes) for entry, attributes in _scoped(
        layout, within, directory.search(layout.basedn, search, Scope.SUB,
                                         list(REFERENCING)))
        if not entry.dn.lower().endswith(inside))
    return _edit_referrers(directory, outside,
                           lambda values: [v for v in values
                                           if not v.lower().endswith(suffix)])


def _edit_referrers(directory, entries, edit):
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
