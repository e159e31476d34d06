"""Where iRedMail keeps each kind of entry: DN builders (facts file, section 1). Pure."""

from dataclasses import dataclass

from .addresses import domain_of
from .directory.escaping import escape_dn_value

# The organizational units below every domain entry, as iRedMail's installer makes them.
CONTAINERS = ("Users", "Groups", "Aliases", "Externals")


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


# slapd's back-mdb keeps an entry's RDN twice (as given and normalised) in one database key
# of at most 511 bytes, and refuses a longer RDN with an "other" error: 245 characters is the
# longest that fits (measured on slapd 2.5: domainName values of 234 characters).
MAX_RDN_LENGTH = 245


def rdn_fits(attribute, value):
    """Whether the RDN `attribute=value` is short enough for slapd to store."""
    return len(f"{attribute}={escape_dn_value(value)}".encode()) <= MAX_RDN_LENGTH
