"""Where iRedMail keeps each kind of entry: DN builders (facts file, section 1). Pure.

Each kind (model/kinds.py) says its container and RDN attribute; the layout adds the bases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .addresses import domain_of
from .directory.escaping import escape_dn_value
from .model.kinds import ADMIN, DOMAIN, USER

if TYPE_CHECKING:
    from .config import Settings
    from .model.params import Kind


@dataclass(frozen=True)
class Layout:
    """The DIT layout below the configured bases (LDAP_BASEDN, LDAP_ADMIN_BASEDN)."""

    basedn: str
    admin_basedn: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Layout:
        return cls(settings.ldap_basedn, settings.ldap_admin_basedn)

    def entry_dn(self, kind: Kind, name: str) -> str:
        """The DN of the entry of `kind` named `name`: a domain name, or an address (a
        list's for its external members, `@domain` for the catch-all)."""
        rdn = self.rdn(kind, name)
        if kind.container is None:  # a domain, or a standalone admin
            return f"{rdn},{self.basedn if kind is DOMAIN else self.admin_basedn}"
        return f"{rdn},{self.container_dn(domain_of(name), kind.container)}"

    def rdn(self, kind: Kind, name: str) -> str:
        """The RDN of the entry of `kind` named `name` (the new RDN of a rename)."""
        return f"{kind.rdn}={escape_dn_value(name)}"

    def domain_dn(self, domain: str) -> str:
        return self.entry_dn(DOMAIN, domain)

    def container_dn(self, domain: str, container: str) -> str:
        """`container`: a kind's container (Users, Groups, Aliases, Externals)."""
        return f"ou={container},{self.domain_dn(domain)}"

    def user_dn(self, mail: str) -> str:
        return self.entry_dn(USER, mail)

    def admin_dn(self, mail: str) -> str:
        return self.entry_dn(ADMIN, mail)
