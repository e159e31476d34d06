"""iRedMail's usage counters on the domain entry (`domainCurrent*`).

Domains created by other tools may lack them; they are then computed once, by counting, and
stored. Creates and deletes keep them up to date (services/reservations.py); `doctor`
recounts them and reports (or repairs) drift, e.g. after an LDIF import.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..directory import Change, Entry, Op, Scope, escape_filter_value
from ..errors import ConcurrentUpdate, no_such_domain
from ..model.kinds import CONTAINERS, COUNTED, DOMAIN, USER
from ..model.parsing import stored_int
from ..numbers import parse_whole

if TYPE_CHECKING:
    from .repository import Repository

USERS = USER.search_filter
DOMAINS = DOMAIN.search_filter
QUOTA = "domainCurrentQuotaSize"
# Each counted kind by its counter (domainCurrentUserNumber: USER, ...).
COUNTERS = {kind.counter: kind for kind in COUNTED.values() if kind.counter}
ATTRIBUTES = (*COUNTERS, QUOTA)


def count_usage(repo: Repository, domain: str,
                only: Collection[str] = ATTRIBUTES) -> dict[str, int]:
    """The domain's counters as {attribute: int}, counted from the directory (slow: it
    reads every account; only for domains without counters, and for doctor)."""
    values: dict[str, int] = {}
    for counter, kind in COUNTERS.items():
        if counter in only:
            values[counter] = sum(1 for _ in repo.directory.search(
                repo.container_dn(domain, kind), kind.search_filter, Scope.ONE,
                ["1.1"]))
    if QUOTA in only:
        values[QUOTA] = sum(stored_int(e.first("mailQuota")) for e in repo.directory.search(
            repo.container_dn(domain, USER), USERS, Scope.ONE, ["mailQuota"]))
    return values


def ensure_counters(repo: Repository, domain: str, entry: Entry) -> dict[str, int]:
    """The domain's counters as {attribute: int}, computing and storing missing ones.

    Counts are stored only while the counters are still absent (an assertion): when racing
    requests count the same domain, the first one's counters stand, and the others read them
    back, since a request may already have reserved on them; overwriting them with a count
    taken earlier would undo that reservation and let the domain pass its limit.
    """
    dn = repo.domain_dn(domain)
    for _ in range(len(ATTRIBUTES) + 1):  # each lost race leaves fewer counters missing
        missing = [a for a in ATTRIBUTES if entry.first(a) is None]
        if not missing:
            return {a: stored_int(entry.first(a)) for a in ATTRIBUTES}
        counted = count_usage(repo, domain, missing)
        try:
            repo.directory.modify(dn, [Change(a, Op.REPLACE, (str(v),))
                                       for a, v in counted.items()],
                                  assertion="(&" + "".join(f"(!({a}=*))" for a in missing) + ")")
        except ConcurrentUpdate:
            again = repo.directory.get(dn, list(ATTRIBUTES))  # another request stored them first
            if again is None:  # and the domain is gone since
                raise no_such_domain(domain) from None
            entry = again
            continue
        return {a: counted[a] if a in counted else stored_int(entry.first(a)) for a in ATTRIBUTES}
    raise ConcurrentUpdate(detail="the domain is too busy; try again")


@dataclass(frozen=True)
class Drift:
    domain: str
    attribute: str
    stored: object
    counted: int


def doctor(repo: Repository, domains: Iterable[str], fix: bool = False) -> list[Drift]:
    """Recount each domain's counters; returns the drifts found (and, with `fix`,
    repaired). A counter not stored is no drift: iRedMail's own domains have none until
    the first write counts and stores them (`ensure_counters` above)."""
    found = []
    for domain in domains:
        entry = repo.directory.get(repo.domain_dn(domain), list(ATTRIBUTES))
        if entry is None:
            continue
        counted = count_usage(repo, domain)
        drift = [Drift(domain, a, entry.first(a), v) for a, v in counted.items()
                 if entry.first(a) is not None and parse_whole(str(entry.first(a))) != v]
        if fix and drift:
            # Only while no write is under way is a count exact: a create counts its
            # entry before it adds it, a delete gives it back after (README, "Outages").
            recount(repo, domain)
        found += drift
    return found


def recount(repo: Repository, domain: str, attempts: int = 5, lower: bool = True) -> None:
    """Count the domain's accounts and store the counts, unless a concurrent request
    changed the counters meanwhile (then count again). After a write whose counter update
    was lost in an outage; slow, as `count_usage`. With `lower` False, a counter is only
    ever raised: while requests run, one may hold a reservation for an entry it has not
    added yet, or have removed an entry and not yet given its count back, and a count
    taken then would let a limit be passed."""
    dn = repo.domain_dn(domain)
    for _ in range(attempts):
        entry = repo.directory.get(dn, list(ATTRIBUTES))
        if entry is None:
            return
        counted = count_usage(repo, domain)
        if not lower:
            counted = {a: max(v, stored_int(entry.first(a))) for a, v in counted.items()}
        held = "".join(f"({a}={escape_filter_value(entry.first(a))})" if entry.first(a)
                       is not None else f"(!({a}=*))" for a in ATTRIBUTES)
        try:
            repo.directory.modify(dn, [Change(a, Op.REPLACE, (str(v),))
                                       for a, v in counted.items()],
                                  assertion=f"(&{held})")
            return
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate(detail="the domain is too busy; try again")


def repair_after_failover(repo: Repository) -> None:
    """Recount every domain's counters and raise those found too low (a reservation made
    on the old leader whose change the new one overwrote); never lowered, since requests
    run meanwhile (`recount`). The directory runs this once its new leader has caught up
    after a failover, before writes that reserve against a limit go on."""
    for entry in repo.directory.search(repo.basedn, DOMAINS, Scope.ONE, ["domainName"]):
        domain = str(entry.first("domainName", "")).lower()
        if domain:
            recount(repo, domain, lower=False)


def missing_containers(repo: Repository, domains: Iterable[str],
                       fix: bool = False) -> list[tuple[str, str]]:
    """(domain, container) of each container a domain lacks (a create that an outage cut
    short); with `fix`, added."""
    found = []
    for domain in domains:
        for container in CONTAINERS:
            dn = repo.layout.container_dn(domain, container)
            if repo.directory.get(dn, ["1.1"]) is None:
                found.append((domain, container))
                if fix:
                    repo.directory.add(dn, {"objectClass": ["organizationalUnit", "top"],
                                            "ou": [container]})
    return found
