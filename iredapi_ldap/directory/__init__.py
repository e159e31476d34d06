"""Access to the LDAP directory: the contract (`base`) and its ldap3 adapter."""

from .base import Change, Directory, Entry, Op, Scope
from .ldap3_backend import Ldap3Directory, escape_dn_value, escape_filter_value

__all__ = ["Change", "Directory", "Entry", "Op", "Scope", "Ldap3Directory",
           "escape_dn_value", "escape_filter_value", "from_settings"]


def from_settings(settings):
    """The directory adapter configured by `settings` (no connection is opened yet)."""
    return Ldap3Directory(settings.ldap_uri, settings.ldap_bind_dn, settings.ldap_bind_password,
                          connect_timeout=settings.ldap_connect_timeout,
                          timeout=settings.ldap_timeout)
