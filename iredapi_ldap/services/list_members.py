"""Where a mailing list's members are kept (DESIGN.md section 3): an internal member carries
`memberOfGroup: <list>` on its own entry, the external members are the `mail` values of the
list's one `mailExternalUser` entry in ou=Externals. Reading them costs two searches, for
one list or for a batch of lists (a listing page)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ..addresses import domain_of
from ..directory import Scope, escape_filter_value
from ..errors import EntryNotFound
from ..model.kinds import ADDRESSED, EXTERNALS
from .repository import Repository


def holders(repo: Repository, mail: str,
            addresses: Sequence[str] | None = None) -> dict[str, list[str]]:
    """{member: DNs of the entries that make it one} for every member of the list `mail`,
    or for those among `addresses`: an internal member's own entry (members are named by
    its `mail`), the list's external entry for an outside one. Among `addresses`, the cost
    does not grow with the list."""
    if addresses is not None and not addresses:
        return {}
    named = "" if addresses is None else "(|" + "".join(
        f"(mail={escape_filter_value(a)})" for a in addresses) + ")"
    held: defaultdict[str, list[str]] = defaultdict(list)
    for found in repo.directory.search(
            repo.basedn, f"(&(memberOfGroup={escape_filter_value(mail)}){ADDRESSED}{named})",
            Scope.SUB, ["mail"]):
        held[str(found.first("mail")).lower()].append(found.dn)
    for member in external_members(repo, mail, addresses):
        held[member].append(repo.dn(EXTERNALS, mail))
    return held


def external_members(repo: Repository, mail: str,
                     addresses: Sequence[str] | None = None) -> list[str]:
    """The list's external members, or those among `addresses` (one test each, not a read
    of them all)."""
    dn = repo.dn(EXTERNALS, mail)
    if addresses is None:
        entry = repo.directory.get(dn, ["mail"])
        return [m.lower() for m in entry.get("mail")] if entry else []
    found: list[str] = []
    for address in addresses:
        try:
            match = repo.directory.search(dn, f"(mail={escape_filter_value(address)})",
                                          Scope.BASE, ["1.1"])
            if next(iter(match), None) is not None:
                found.append(address)
        except EntryNotFound:  # no external entry: no external member
            break
    return found


def members(repo: Repository, mail: str) -> list[str]:
    """The list's members, sorted (an address held by two entries appears twice)."""
    return sorted(member for member, dns in holders(repo, mail).items() for _ in dns)


def members_of_lists(repo: Repository, lists: Sequence[str]) -> dict[str, list[str]]:
    """{list: its members, as `members` gives them} for every address in `lists` (lower
    case): one search for the internal members of them all, and one of the Externals
    container per domain among them."""
    if not lists:
        return {}
    wanted = {mail.lower() for mail in lists}
    found: dict[str, list[str]] = {mail: [] for mail in wanted}
    groups = "".join(f"(memberOfGroup={escape_filter_value(m)})" for m in sorted(wanted))
    for entry in repo.directory.search(repo.basedn, f"(&(|{groups}){ADDRESSED})", Scope.SUB,
                                       ["mail", "memberOfGroup"]):
        member = str(entry.first("mail")).lower()
        for group in {str(v).lower() for v in entry.get("memberOfGroup")} & wanted:
            found[group].append(member)
    for domain in sorted({domain_of(mail) for mail in wanted}):
        in_domain = sorted(m for m in wanted if domain_of(m) == domain)
        _add_externals(repo, domain, in_domain, found)
    return {mail: sorted(held) for mail, held in found.items()}


def _add_externals(repo: Repository, domain: str, lists: Sequence[str],
                   found: dict[str, list[str]]) -> None:
    """Add to `found` the external members of `lists` (all in `domain`): the `mail`
    values of each list's entry in the domain's Externals container."""
    groups = "".join(f"(memberOfGroup={escape_filter_value(m)})" for m in lists)
    by_dn = {repo.dn(EXTERNALS, mail).lower(): mail for mail in lists}
    try:
        entries = list(repo.directory.search(repo.container_dn(domain, EXTERNALS),
                                             f"(|{groups})", Scope.ONE, ["mail"]))
    except EntryNotFound:  # a domain without the container has no external member
        return
    for entry in entries:
        mail = by_dn.get(entry.dn.lower())
        if mail is not None:
            found[mail] += [str(m).lower() for m in entry.get("mail")]
