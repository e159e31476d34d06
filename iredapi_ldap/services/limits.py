"""The creation limits of normal admins (accountSetting `create_*` on the admin's entry).

A normal admin's limits are shared by all the domains it manages, so no one entry holds
the count to assert on. They are held by counting again after the write: a create first
takes its room (the domain's reservation, or the new domain itself), then counts what the
admin holds, its own room and that of every racing create included; over the limit, it
gives its room back and tries again after a random pause, until it fits or the admin is
full. Two racing creates cannot both miss each other's room, so N racing creates against a
limit of K leave exactly K accounts (or domains).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, cast

from ..errors import ConcurrentUpdate, LimitExceeded, PermissionDenied
from ..model.admin_rules import may_create_domains
from ..model.draft import EntryDraft
from ..model.kinds import COUNTED
from ..model.parsing import stored_int
from . import counters
from .access import domains_administered_by
from .repository import Repository
from .reservations import PATIENCE, require_reserving_writes

if TYPE_CHECKING:
    from ..directory import Entry
    from ..model.draft import Setting
    from .auth import Caller
    from .reservations import Reservations

_UNITS = {"MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
MAX_PAUSE = 0.1


class AdminLimits:
    def __init__(self, repo: Repository, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._repo = repo
        self._sleep = sleep
        self._clock = clock

    def _settings(self, caller: Caller) -> dict[str, Setting]:
        return EntryDraft.of(self._repo.directory.get(caller.dn, ["accountSetting"])).settings()

    def require_domain_creator(self, caller: Caller) -> dict[str, Setting]:
        """PERMISSION_DENIED unless the caller may create domains (a global admin, or a
        normal admin with `create_new_domains:yes`); the caller's settings."""
        if caller.is_global_admin:
            return {}
        settings = self._settings(caller)
        if not may_create_domains(settings):
            raise PermissionDenied(detail="this admin may not create domains")
        return settings

    def create_domain(self, caller: Caller, create: Callable[[], None],
                      rollback: Callable[[], None]) -> None:
        """Run `create()` for a new domain, within the caller's create_max_domains.

        A normal admin needs `create_new_domains:yes`; `rollback()` removes what
        `create()` made when racing creates went past the limit.
        """
        if caller.is_global_admin:
            create()
            return
        settings = self.require_domain_creator(caller)
        limit = stored_int(settings.get("create_max_domains"))
        if limit <= 0:
            create()
            return
        require_reserving_writes(self._repo)

        def over(extra: int) -> bool:
            managed = domains_administered_by(self._repo, caller.mail)
            return len(managed) + extra > limit
        self._counted(over, create, rollback, f"this admin may create at most {limit} domains")

    def reserve_account(self, caller: Caller, reservations: Reservations, domain: str,
                        kind: str, quota: int = 0, entry: Entry | None = None) -> None:
        """Reserve room for an account of `kind` (user, alias, list) with `quota` bytes in
        the domain, within the caller's own create_max_users/aliases/lists and
        create_max_quota as well as the domain's limits."""
        limits = None if caller.is_global_admin else _limits(self._settings(caller), kind)
        if limits is None:
            reservations.reserve(domain, kind, quota=quota, entry=entry)
            return
        max_accounts, max_quota = limits

        def over(extra: int) -> bool:
            held, used = self._totals(caller, kind)
            return bool((max_accounts and held + extra > max_accounts)
                        or (max_quota and used + extra * quota > max_quota))
        refusal = (f"this admin may create at most {max_accounts} {COUNTED[kind].plural}"
                   if max_accounts else "this admin's quota for its domains would be exceeded")
        self._counted(over, lambda: reservations.reserve(domain, kind, quota=quota, entry=entry),
                      lambda: reservations.release(domain, kind, quota=quota), refusal)

    def _totals(self, caller: Caller, kind: str) -> tuple[int, int]:
        """(accounts of `kind`, bytes of quota) the caller holds in all its domains."""
        held = used = 0
        for domain in domains_administered_by(self._repo, caller.mail):
            entry = self._repo.directory.get(self._repo.domain_dn(domain),
                                             list(counters.ATTRIBUTES))
            if entry is None:
                continue
            totals = counters.ensure_counters(self._repo, domain, entry)
            held += totals[cast(str, COUNTED[kind].counter)]  # every counted kind has one
            used += totals["domainCurrentQuotaSize"]
        return held, used

    def _counted(self, over: Callable[[int], bool], take: Callable[[], None],
                 give_back: Callable[[], None], refusal: str) -> None:
        """Take room in a limit shared by several entries: refused when `over(1)` (no room
        for one more); after `take()`, `over(0)` counts again, racing takers included, and
        a take that went past the limit is given back and tried again."""
        deadline, attempt = self._clock() + PATIENCE, 0
        while True:
            attempt += 1
            if over(1):
                raise LimitExceeded(detail=refusal)
            take()
            if not over(0):
                return
            give_back()
            if self._clock() >= deadline:
                raise ConcurrentUpdate(detail="too many requests at once; try again")
            self._sleep(random.uniform(0, min(MAX_PAUSE, 0.005 * 2 ** min(attempt, 5))))


def _limits(settings: Mapping[str, Setting], kind: str) -> tuple[int, int] | None:
    """(max accounts of `kind`, max quota in bytes) of an admin's settings; None when
    both are unlimited."""
    # Every counted kind has an admin limit (model/kinds.py).
    max_accounts = stored_int(settings.get(cast(str, COUNTED[kind].admin_limit)))
    max_quota = stored_int(settings.get("create_max_quota")) * _UNITS.get(
        str(settings.get("create_quota_unit", "MB")).upper(), _UNITS["MB"])
    return (max_accounts, max_quota) if max_accounts or max_quota else None
