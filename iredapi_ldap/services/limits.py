"""The creation limits of normal admins (accountSetting `create_*` on the admin's entry)."""

from ..directory import Scope, escape_filter_value
from ..errors import LimitExceeded, PermissionDenied
from ..model.draft import EntryDraft


class AdminLimits:
    def __init__(self, directory, layout):
        self._directory = directory
        self._layout = layout

    def _settings(self, caller):
        entry = self._directory.get(caller.dn, ["accountSetting"])
        return EntryDraft.of(entry).settings()

    def _max_domains(self, caller):
        value = str(self._settings(caller).get("create_max_domains", "0"))
        return int(value) if value.lstrip("-").isdigit() and value.isascii() else 0

    def check_can_create_domain(self, caller):
        """A normal admin needs `create_new_domains:yes`, and room under create_max_domains."""
        if caller.is_global_admin:
            return
        if str(self._settings(caller).get("create_new_domains", "")).lower() != "yes":
            raise PermissionDenied(detail="this admin may not create domains")
        limit = self._max_domains(caller)
        if limit > 0 and len(self._managed(caller)) >= limit:
            raise LimitExceeded(detail=f"this admin may create at most {limit} domains")

    def confirm_domain_created(self, caller, domain, rollback):
        """After the create: if racing requests went past create_max_domains, the domains
        beyond the limit, in creation order, are removed again. Every racer sees the same
        order (createTimestamp, then entryUUID), so exactly the first `limit` stay."""
        limit = self._max_domains(caller)
        if limit <= 0:
            return
        ordered = sorted(self._managed(caller, ["createTimestamp", "entryUUID"]),
                         key=lambda e: (e.first("createTimestamp", ""), e.first("entryUUID", "")))
        names = [str(e.first("domainName", "")).lower() for e in ordered]
        if domain in names and names.index(domain) >= limit:
            rollback(domain)
            raise LimitExceeded(detail=f"this admin may create at most {limit} domains")

    def _managed(self, caller, extra=()):
        return list(self._directory.search(
            self._layout.basedn,
            f"(&(objectClass=mailDomain)(domainAdmin={escape_filter_value(caller.mail)}))",
            Scope.ONE, ["domainName", *extra]))
