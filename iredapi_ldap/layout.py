"""Where iRedMail keeps each kind of entry: DN builders (facts file, section 1). Pure."""

from dataclasses import dataclass

from .addresses import domain_of
from .directory import escape_dn_value


@dataclass(frozen=True)
class Layout:
    """The DIT layout below the configured bases (LDAP_BASEDN, LDAP_ADMIN_BASEDN)."""

    basedn: str
    admin_basedn: str

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.ldap_basedn, settings.ldap_admin_basedn)

    def domain_dn(self, domain):
        return f"domainName={escape_dn_value(domain)},{self.basedn}"

    def container_dn(self, domain, container):
        """`container` is one of Users, Groups, Aliases, Externals."""
        return f"ou={container},{self.domain_dn(domain)}"

    def user_dn(self, mail):
        return f"mail={escape_dn_value(mail)},{self.container_dn(domain_of(mail), 'Users')}"

    def admin_dn(self, mail):
        return f"mail={escape_dn_value(mail)},{self.admin_basedn}"
