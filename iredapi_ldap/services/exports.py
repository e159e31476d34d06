"""What each LDIF export endpoint exports, and who may export it."""

from ..addresses import domain_of
from ..directory import escape_dn_value
from ..errors import NotFound
from .access import require_domain, require_global_admin
from .backup import walk
from .domains import parse_domain
from .users import parse_user_mail

KINDS = ("domain", "catchall", "admin", "user", "maillist", "alias")
_CONTAINERS = {"user": "Users", "alias": "Aliases", "maillist": "Groups"}


class ExportService:
    def __init__(self, directory, layout):
        self._directory = directory
        self._layout = layout

    def entries(self, caller, kind, name):
        """The entries of one export, parents first (an iterator)."""
        if kind == "domain":
            domain = parse_domain(name)
            require_domain(self._directory, self._layout, caller, domain)
            return walk(self._directory, self._layout.domain_dn(domain))
        if kind == "catchall":
            domain = parse_domain(name)
            require_domain(self._directory, self._layout, caller, domain)
            return iter([self._one(self._layout.user_dn("@" + domain), f"catch-all of {domain}")])
        mail = parse_user_mail(name)
        if kind == "admin":
            require_global_admin(caller)
            return iter([self._one(self._layout.admin_dn(mail), f"admin {mail}")])
        domain = domain_of(mail)
        require_domain(self._directory, self._layout, caller, domain)
        container = self._layout.container_dn(domain, _CONTAINERS[kind])
        entries = [self._one(f"mail={escape_dn_value(mail)},{container}", f"{kind} {mail}")]
        if kind == "maillist":  # with its external members' entry
            externals = self._directory.get(
                f"memberOfGroup={escape_dn_value(mail)},"
                f"{self._layout.container_dn(domain, 'Externals')}", ["*"])
            entries += [externals] if externals else []
        return iter(entries)

    def _one(self, dn, what):
        entry = self._directory.get(dn, ["*"])
        if entry is None:
            raise NotFound("NO_SUCH_ACCOUNT", detail=f"no {what}")
        return entry
