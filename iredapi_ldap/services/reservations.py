"""Reserving room in a domain's limits, exactly, under concurrency.

The domain entry's counters are the lock. A reservation is one modify that
- increments the kind's counter (`domainCurrentUserNumber`, `...AliasNumber`,
  `...ListNumber`; RFC 4525) under an assertion (RFC 4528) that it still holds the value we
  checked the limit against, and
- swaps `domainCurrentQuotaSize` (a string) by deleting the value we read and adding the new
  sum, which fails atomically when another writer changed it first.
Either way a concurrent writer makes the modify fail as a whole; we read again and re-check,
so N parallel creates against a limit of K leave exactly K accounts.
"""

import random
import time
from dataclasses import dataclass

from ..directory import Change, Op
from ..errors import ConcurrentUpdate, LimitExceeded
from ..model.draft import EntryDraft
from . import counters
from .values import stored_int

MB = 1024 * 1024
PATIENCE = 10.0      # seconds a reservation keeps trying against concurrent writers
MAX_PAUSE = 0.05     # longest pause between two tries
# kind -> (counter on the domain entry, the domain's limit, the admin's limit (both
# accountSetting keys), what the API calls them)
KINDS = {"user": ("domainCurrentUserNumber", "numberOfUsers", "create_max_users", "users"),
         "alias": ("domainCurrentAliasNumber", "numberOfAliases", "create_max_aliases",
                   "aliases"),
         "list": ("domainCurrentListNumber", "numberOfLists", "create_max_lists",
                  "mailing lists")}


@dataclass(frozen=True)
class DomainLimits:
    """The limits in a domain's accountSetting (0: unlimited; -1: none may be created)."""

    max_accounts: dict    # kind -> limit
    max_user_quota: int   # bytes, 0 = unlimited
    domain_quota: int     # bytes, 0 = unlimited
    default_quota: int    # bytes

    @classmethod
    def of(cls, entry):
        settings = EntryDraft.of(entry).settings()
        quota = str(settings.get("domainQuota", "0")).split(":")[0]
        return cls(max_accounts={kind: stored_int(settings.get(limit))
                                 for kind, (_, limit, _, _) in KINDS.items()},
                   max_user_quota=stored_int(settings.get("maxUserQuota")) * MB,
                   domain_quota=stored_int(quota) * MB,
                   default_quota=stored_int(settings.get("defaultQuota")) * MB)


class Reservations:
    def __init__(self, directory, layout, sleep=time.sleep, clock=time.monotonic):
        self._directory = directory
        self._layout = layout
        self._sleep = sleep
        self._clock = clock

    def reserve(self, domain, kind="user", count=1, quota=0, entry=None):
        """Count `count` more accounts of `kind` (user, alias, list) and `quota` more bytes
        in the domain, within its limits. `entry`, the domain entry the caller has just read
        (with accountSetting and the counters), spares the first try a read.

        Raises:
            LimitExceeded: the domain is full (EXCEEDED_LIMIT), names which limit.
        """
        self._change(domain, kind, count, quota, check=True, entry=entry)

    def release(self, domain, kind="user", count=1, quota=0):
        """Give back what `reserve` took (on delete, or when a create failed)."""
        self._change(domain, kind, -count, -quota, check=False)

    def carry(self, old_domain, new_domain, rename, kind="user", quota=0):
        """Run `rename()`; when it moves an account to another domain, its count (and
        quota) move along: reserved in the new domain first, given back there if the rename
        fails, released in the old one after it. Returns what `rename()` returns."""
        if new_domain == old_domain:
            return rename()
        self.reserve(new_domain, kind=kind, quota=quota)
        try:
            result = rename()
        except Exception:
            self.release(new_domain, kind=kind, quota=quota)
            raise
        self.release(old_domain, kind=kind, quota=quota)
        return result

    def move_quota(self, domain, delta):
        """Change the domain's used quota by `delta` bytes (a user's quota changed)."""
        self._change(domain, "user", 0, delta, check=delta > 0)

    def _change(self, domain, kind, count, quota, check, entry=None):
        if not count and not quota:
            return
        counter = KINDS[kind][0]
        dn = self._layout.domain_dn(domain)
        deadline, attempt = self._clock() + PATIENCE, 0
        while True:
            attempt += 1
            if entry is None or attempt > 1:
                entry = self._directory.get(dn, ["accountSetting", *counters.ATTRIBUTES])
            current = counters.ensure_counters(self._directory, self._layout, domain, entry)
            held, used = current[counter], current["domainCurrentQuotaSize"]
            if check:
                _check(DomainLimits.of(entry), kind, held, count, used, quota)
            try:
                self._directory.modify(dn, _changes(counter, count, used, quota),
                                       assertion=f"({counter}={held})")
                return
            except ConcurrentUpdate:
                if self._clock() >= deadline:
                    raise ConcurrentUpdate(detail="the domain is too busy; try again") \
                        from None
                # Random, growing pauses spread the racing writers apart.
                self._sleep(random.uniform(0, min(MAX_PAUSE, 0.001 * 2 ** min(attempt, 6))))


def _check(limits, kind, held, count, used, quota):
    limit, name = limits.max_accounts[kind], KINDS[kind][3]
    if count > 0 and limit == -1:
        raise LimitExceeded(detail=f"this domain may not have {name}")
    if count > 0 and limit > 0 and held + count > limit:
        raise LimitExceeded(detail=f"this domain may have at most {limit} {name}")
    if quota > 0 and limits.domain_quota and used + quota > limits.domain_quota:
        raise LimitExceeded(detail="the domain's quota would be exceeded")


def _changes(counter, count, used, quota):
    changes = []
    if count:
        changes.append(Change(counter, Op.INCREMENT, (str(count),)))
    if quota:
        changes += [Change("domainCurrentQuotaSize", Op.DELETE, (str(used),)),
                    Change("domainCurrentQuotaSize", Op.ADD, (str(max(used + quota, 0)),))]
    return changes
