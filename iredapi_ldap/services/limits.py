"""The creation limits of normal admins (accountSetting `create_*` on the admin's entry)."""

import random
import time

from ..errors import LimitExceeded, PermissionDenied
from ..model.draft import EntryDraft
from . import counters
from .access import domains_administered_by
from .reservations import KINDS
from .values import stored_int

_UNITS = {"MB": 1024**2, "GB": 1024**3, "TB": 1024**4}

CREATE_ATTEMPTS = 3


class AdminLimits:
    def __init__(self, directory, layout, sleep=time.sleep):
        self._directory = directory
        self._layout = layout
        self._sleep = sleep

    def _settings(self, caller):
        entry = self._directory.get(caller.dn, ["accountSetting"])
        return EntryDraft.of(entry).settings()

    def create_domain(self, caller, create, rollback):
        """Run `create()` for a new domain, within the caller's create_max_domains.

        A normal admin needs `create_new_domains:yes`. The limit holds under concurrency:
        after creating, the managed domains are counted again, and a create that went past
        the limit is rolled back (`rollback()`) and tried again after a random pause, so
        racing requests never leave more than the limit (at worst, fewer succeed).
        """
        if caller.is_global_admin:
            create()
            return
        settings = self._settings(caller)
        if str(settings.get("create_new_domains", "")).lower() != "yes":
            raise PermissionDenied(detail="this admin may not create domains")
        limit = stored_int(settings.get("create_max_domains"))
        if limit <= 0:
            create()
            return
        for attempt in range(CREATE_ATTEMPTS):
            if self._managed_count(caller) >= limit:
                break
            create()
            if self._managed_count(caller) <= limit:
                return
            rollback()
            self._sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise LimitExceeded(detail=f"this admin may create at most {limit} domains")

    def check_new_account(self, caller, kind, quota=0):
        """A normal admin's own create_max_users/aliases/lists and create_max_quota (shared
        by all the domains it manages). Checked, not reserved: exactness under races is the
        domains' limits' job (services/reservations.py)."""
        if caller.is_global_admin:
            return
        settings = self._settings(caller)
        counter, _, admin_limit, name = KINDS[kind]
        max_accounts = stored_int(settings.get(admin_limit))
        max_quota = stored_int(settings.get("create_max_quota")) * _UNITS.get(
            str(settings.get("create_quota_unit", "MB")).upper(), _UNITS["MB"])
        if not (max_accounts or max_quota):
            return
        held = used = 0
        for domain in domains_administered_by(self._directory, self._layout, caller.mail):
            entry = self._directory.get(self._layout.domain_dn(domain), list(counters.ATTRIBUTES))
            totals = counters.ensure_counters(self._directory, self._layout, domain, entry)
            held += totals[counter]
            used += totals["domainCurrentQuotaSize"]
        if max_accounts and held + 1 > max_accounts:
            raise LimitExceeded(detail=f"this admin may create at most {max_accounts} {name}")
        if max_quota and used + quota > max_quota:
            raise LimitExceeded(detail="this admin's quota for its domains would be exceeded")

    def _managed_count(self, caller):
        return len(domains_administered_by(self._directory, self._layout, caller.mail))
