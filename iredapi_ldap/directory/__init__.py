"""Access to the LDAP directory: the contract (`base`) and two adapters behind it, on ldap3
(pure Python) and on python-ldap (libldap), chosen with the LDAP_CLIENT setting.

The contract's value types and the escaping (`base`, `escaping`) import no LDAP client, so
the pure model may use them; the adapters, and so the client libraries, are imported only
when first asked for (`ADAPTERS`, `Ldap3Directory`, `PythonLdapDirectory`, `from_settings`).
"""

import functools
from typing import TYPE_CHECKING, Any

from .base import Change, Directory, Entry, Op, Scope, Window, WindowResult
from .escaping import escape_dn_value, escape_filter_value, still_holding

if TYPE_CHECKING:
    from ..config import Settings
    from .connections import ThreadBoundDirectory
    from .ldap3_backend import Ldap3Directory
    from .pyldap_backend import PythonLdapDirectory

    ADAPTERS: dict[str, type[ThreadBoundDirectory]]

__all__ = ["Change", "Directory", "Entry", "Op", "Scope", "Window", "WindowResult",
           "Ldap3Directory",
           "PythonLdapDirectory", "ADAPTERS", "escape_dn_value", "escape_filter_value",
           "from_settings", "still_holding"]


@functools.cache
def _adapters() -> "dict[str, type[ThreadBoundDirectory]]":
    from .ldap3_backend import Ldap3Directory
    from .pyldap_backend import PythonLdapDirectory
    return {"ldap3": Ldap3Directory, "python-ldap": PythonLdapDirectory}


def __getattr__(name: str) -> Any:
    """The adapters, imported on first use (PEP 562)."""
    if name == "ADAPTERS":
        return _adapters()
    if name == "Ldap3Directory":
        return _adapters()["ldap3"]
    if name == "PythonLdapDirectory":
        return _adapters()["python-ldap"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def from_settings(settings: "Settings") -> "ThreadBoundDirectory":
    """The directory adapter configured by `settings` (no connection is opened yet)."""
    return _adapters()[settings.ldap_client](
        settings.ldap_uri, settings.ldap_bind_dn, settings.ldap_bind_password,
        connect_timeout=settings.ldap_connect_timeout, timeout=settings.ldap_timeout,
        bind_timeout=settings.ldap_bind_timeout,
        failback_interval=settings.ldap_failback_interval,
        failover_hold=settings.ldap_failover_hold)
