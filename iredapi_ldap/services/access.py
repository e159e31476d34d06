"""Authorization primitives every resource uses: global-only actions and domain scope."""

from ..directory import Entry, Scope, escape_filter_value
from ..errors import Code, NotFound, PermissionDenied
from ..model.profiles import hide_disabled


def require_global_admin(caller):
    """Raise PermissionDenied unless the caller is a global admin."""
    if not caller.is_global_admin:
        raise PermissionDenied(detail="only global admins may do this")


def managed_domains(directory, layout, caller):
    """Names of the domains the caller manages (all domains for a global admin), sorted."""
    if caller.is_global_admin:
        entries = directory.search(layout.basedn, "(objectClass=mailDomain)", Scope.ONE,
                                   ["domainName"])
        return sorted(str(e.first("domainName", "")).lower() for e in entries)
    return domains_administered_by(directory, layout, caller.mail)


def managed_domain_entries(directory, layout, caller, attributes):
    """The entries of the domains a normal admin manages (with `attributes`)."""
    return directory.search(
        layout.basedn,
        f"(&(objectClass=mailDomain)(domainAdmin={escape_filter_value(caller.mail)}))",
        Scope.ONE, attributes)


def domains_administered_by(directory, layout, mail):
    """Names of the domains whose `domainAdmin` lists `mail`, sorted."""
    entries = directory.search(
        layout.basedn,
        f"(&(objectClass=mailDomain)(domainAdmin={escape_filter_value(mail)}))",
        Scope.ONE, ["domainName"])
    return sorted(str(e.first("domainName", "")).lower() for e in entries)


def require_domain(directory, layout, caller, domain, attributes=None):
    """The domain's entry, if the caller may manage it.

    A global admin gets NO_SUCH_DOMAIN (404) for a missing domain; a normal admin gets
    PERMISSION_DENIED for any domain it does not manage, existing or not, so that scope
    does not reveal which domains exist.
    """
    wanted = list(attributes or ["domainName"])
    if "domainAdmin" not in wanted:
        wanted.append("domainAdmin")
    entry = directory.get(layout.domain_dn(domain), wanted)
    if caller.is_global_admin:
        if entry is None:
            raise NotFound(Code.NO_SUCH_DOMAIN, detail=f"no domain {domain}")
        return entry
    if entry is None or not entry.has_value("domainAdmin", caller.mail):
        raise PermissionDenied(detail=f"you do not manage {domain}")
    return entry


def read_account(directory, layout, caller, mail, dn, what, attributes=("*",)):
    """The entry at `dn`, for an account of a domain the caller manages; errors as
    `require_account`. For a global admin the account's existence implies its domain's, so
    the domain is read only when the account is missing (one LDAP read instead of two)."""
    if not caller.is_global_admin:
        return require_account(directory, layout, caller, mail, dn, what, attributes)[0]
    entry = directory.get(dn, list(attributes))
    if entry is None:
        require_domain(directory, layout, caller, mail.rsplit("@", 1)[1])
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {what} {mail}")
    return entry


def require_account(directory, layout, caller, mail, dn, what, attributes=("*",)):
    """(entry at `dn`, the domain's entry) for an account of a domain the caller manages.

    Raises PERMISSION_DENIED / NO_SUCH_DOMAIN as `require_domain`, and NO_SUCH_ACCOUNT
    (naming `what`) when there is no entry.
    """
    domain = require_domain(directory, layout, caller, mail.rsplit("@", 1)[1], ["*"])
    entry = directory.get(dn, list(attributes))
    if entry is None:
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {what} {mail}")
    return entry, domain


def is_hosted(directory, layout, domain):
    """Whether `domain` is a hosted domain or another domain's alias domain."""
    return hosting_domain(directory, layout, domain) is not None


def hosting_domain(directory, layout, domain):
    """The hosted domain that `domain` is, or is an alias domain of; None if neither."""
    value = escape_filter_value(domain)
    found = directory.search(
        layout.basedn,
        f"(&(objectClass=mailDomain)(|(domainName={value})(domainAliasName={value})))",
        Scope.ONE, ["domainName"])
    entry = next(iter(found), None)
    return None if entry is None else str(entry.first("domainName")).lower()


def require_within_privileges(directory, layout, caller, entry):
    """PERMISSION_DENIED unless the caller's privileges cover those of the mail user at
    `entry`: a normal admin never acts on a global admin, nor on an admin of a domain it
    does not manage (it could take that account over and act in the other domain)."""
    beyond = privileges_beyond(directory, layout, caller, entry)
    if beyond:
        raise PermissionDenied(detail=f"{entry.first('mail')} {beyond}")


def privileges_beyond(directory, layout, caller, entry):
    """Why the account at `entry` has privileges the caller lacks (a short phrase), or
    None when it has none."""
    if caller.is_global_admin:
        return None
    if entry.has_value("domainGlobalAdmin", "yes"):
        return "is a global admin"
    mail = str(entry.first("mail", "")).lower()
    if not mail or mail == caller.mail:
        return None
    administered = domains_administered_by(directory, layout, mail)
    if administered and not set(administered) <= set(managed_domains(directory, layout,
                                                                        caller)):
        return "administers a domain you do not manage"
    return None


# Mail users that may hold privileges (indexed attributes: one cheap search per domain).
PRIVILEGED_USERS = "(&(objectClass=mailUser)(|(domainGlobalAdmin=yes)(enabledService=domainadmin)))"


def accounts_beyond(directory, layout, caller, domain):
    """{address: why} of the domain's mail users whose privileges exceed the caller's."""
    if caller.is_global_admin:
        return {}
    found = {}
    for entry in directory.search(layout.container_dn(domain, "Users"), PRIVILEGED_USERS,
                                  Scope.ONE, ["mail", "domainGlobalAdmin"]):
        why = privileges_beyond(directory, layout, caller, entry)
        if why:
            found[str(entry.first("mail", "")).lower()] = why
    return found


def require_privileged_accounts_within(directory, layout, caller, domain):
    """PERMISSION_DENIED when the domain holds a mail user whose privileges exceed the
    caller's: disabling or deleting the whole domain would disable or delete it too."""
    for mail, why in accounts_beyond(directory, layout, caller, domain).items():
        raise PermissionDenied(detail=f"{mail} {why}")


def disabled_profiles(domain_entry, setting):
    """The profile names a domain's accountSetting `setting` lists (lower-cased)."""
    prefix = setting.lower() + ":"
    return {str(item)[len(prefix):].lower() for item in domain_entry.get("accountSetting")
            if str(item).lower().startswith(prefix)}


def without_disabled(caller, table, disabled, entry):
    """`entry` as a normal admin may see it: without the attributes of the profiles in
    `disabled` (a global admin sees all)."""
    if caller.is_global_admin or not disabled:
        return entry
    return Entry(entry.dn, hide_disabled(table, disabled, entry.attrs))


def scope_of(directory, layout, caller):
    """The domains whose entries the caller's deletes and renames may edit: None (all) for
    a global admin, the domains it manages for a normal admin."""
    return None if caller.is_global_admin else managed_domains(directory, layout, caller)
