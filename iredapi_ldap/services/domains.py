"""Domain rules. (The Domains issue grows this into the full set of operations.)"""

from ..directory import Scope, escape_filter_value


def list_domains(directory, layout, caller, disabled_only=False, names_only=False):
    """The domains the caller manages, streamed from a paged one-level search.

    Global admins see every domain, normal admins those whose `domainAdmin` holds them.
    """
    parts = ["(objectClass=mailDomain)"]
    if not caller.is_global_admin:
        parts.append(f"(domainAdmin={escape_filter_value(caller.mail)})")
    if disabled_only:
        parts.append("(accountStatus=disabled)")
    attributes = ["domainName"] if names_only else None
    return directory.search(layout.basedn, f"(&{''.join(parts)})", Scope.ONE, attributes)
