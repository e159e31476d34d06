"""DN arithmetic shared by both adapters (python-ldap's DN parser), and the escaping of
`escaping.py` under the names the adapters and services have always imported.

One implementation, whichever adapter runs, so a DN the API builds is spelled the same way
with either.
"""

import ldap.dn

from .escaping import escape_dn_value, escape_filter_value, still_holding

__all__ = ["dn_depth", "escape_dn_value", "escape_filter_value", "parent_dn", "still_holding"]


def dn_depth(dn: str) -> int:
    """How many RDNs `dn` has (escaped commas do not count)."""
    return len(ldap.dn.str2dn(dn))


def parent_dn(dn: str) -> str:
    """The DN one level up ("" for a one-RDN DN)."""
    return ldap.dn.dn2str(ldap.dn.str2dn(dn)[1:])
