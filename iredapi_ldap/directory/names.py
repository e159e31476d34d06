"""Escaping and DN arithmetic shared by both adapters (python-ldap's pure-Python helpers).

One implementation, whichever adapter runs, so a DN the API builds is spelled the same way
with either.
"""

import ldap.dn
import ldap.filter


def escape_filter_value(value):
    """`value` made safe to stand inside an LDAP filter assertion (RFC 4515)."""
    return ldap.filter.escape_filter_chars(str(value))


def escape_dn_value(value):
    """`value` made safe to stand as an RDN value in a DN (RFC 4514)."""
    return ldap.dn.escape_dn_chars(str(value))


def dn_depth(dn):
    """How many RDNs `dn` has (escaped commas do not count)."""
    return len(ldap.dn.str2dn(dn))


def parent_dn(dn):
    """The DN one level up ("" for a one-RDN DN)."""
    return ldap.dn.dn2str(ldap.dn.str2dn(dn)[1:])


def still_holding(entry, attributes):
    """An assertion (LDAP filter) that `entry` still holds the values it was read with for
    `attributes` (absent ones still absent): a write under it fails if another writer
    changed them meanwhile."""
    parts = []
    for name in attributes:
        values = entry.get(name)
        parts += ([f"({name}={escape_filter_value(v)})" for v in values] if values
                  else [f"(!({name}=*))"])
    return "(&" + "".join(parts) + ")"
