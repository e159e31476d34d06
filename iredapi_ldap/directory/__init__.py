"""Access to the LDAP directory: the contract (`base`) and two adapters behind it, on ldap3
(pure Python) and on python-ldap (libldap), chosen with the LDAP_CLIENT setting."""

from .base import Change, Directory, Entry, Op, Scope
from .ldap3_backend import Ldap3Directory
from .names import escape_dn_value, escape_filter_value, still_holding
from .pyldap_backend import PythonLdapDirectory

__all__ = ["Change", "Directory", "Entry", "Op", "Scope", "Ldap3Directory",
           "PythonLdapDirectory", "ADAPTERS", "escape_dn_value", "escape_filter_value",
           "from_settings", "still_holding"]

ADAPTERS = {"ldap3": Ldap3Directory, "python-ldap": PythonLdapDirectory}


def from_settings(settings):
    """The directory adapter configured by `settings` (no connection is opened yet)."""
    return ADAPTERS[settings.ldap_client](
        settings.ldap_uri, settings.ldap_bind_dn, settings.ldap_bind_password,
        connect_timeout=settings.ldap_connect_timeout, timeout=settings.ldap_timeout)
