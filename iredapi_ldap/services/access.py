"""Authorization primitives every resource uses: global-only actions and domain scope."""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..directory import Entry, Scope, escape_filter_value
from ..errors import Code, NotFound, PermissionDenied, no_such_domain
from ..model.admin_rules import may_create_domains, may_create_more
from ..model.draft import EntryDraft
from ..model.kinds import DOMAIN, USER
from ..model.profiles import Profile, hide_disabled

if TYPE_CHECKING:
    from .auth import Caller
    from .repository import Repository


def require_global_admin(caller: Caller) -> None:
    """Raise PermissionDenied unless the caller is a global admin."""
    if not caller.is_global_admin:
        raise PermissionDenied(detail="only global admins may do this")


def managed_domains(repo: Repository, caller: Caller) -> list[str]:
    """Names of the domains the caller manages (all domains for a global admin), sorted."""
    if caller.is_global_admin:
        entries = repo.directory.search(repo.basedn, DOMAIN.search_filter, Scope.ONE,
                                        ["domainName"])
        return sorted(str(e.first("domainName", "")).lower() for e in entries)
    return domains_administered_by(repo, caller.mail)


def managed_domain_entries(repo: Repository, caller: Caller,
                           attributes: Sequence[str]) -> Iterator[Entry]:
    """The entries of the domains a normal admin manages (with `attributes`)."""
    return repo.directory.search(
        repo.basedn,
        f"(&{DOMAIN.search_filter}(domainAdmin={escape_filter_value(caller.mail)}))",
        Scope.ONE, attributes)


def domains_administered_by(repo: Repository, mail: str) -> list[str]:
    """Names of the domains whose `domainAdmin` lists `mail`, sorted."""
    entries = repo.directory.search(
        repo.basedn,
        f"(&{DOMAIN.search_filter}(domainAdmin={escape_filter_value(mail)}))",
        Scope.ONE, ["domainName"])
    return sorted(str(e.first("domainName", "")).lower() for e in entries)


def require_domain(repo: Repository, caller: Caller, domain: str,
                   attributes: Sequence[str] | None = None) -> Entry:
    """The domain's entry, if the caller may manage it.

    A global admin gets NO_SUCH_DOMAIN (404) for a missing domain; a normal admin gets
    PERMISSION_DENIED for any domain it does not manage, existing or not, so that scope
    does not reveal which domains exist.
    """
    wanted = list(attributes or ["domainName"])
    if "domainAdmin" not in wanted:
        wanted.append("domainAdmin")
    entry = repo.directory.get(repo.domain_dn(domain), wanted)
    if caller.is_global_admin:
        if entry is None:
            raise no_such_domain(domain)
        return entry
    if entry is None or not entry.has_value("domainAdmin", caller.mail):
        raise PermissionDenied(detail=f"you do not manage {domain}")
    return entry


def read_account(repo: Repository, caller: Caller, mail: str, dn: str, what: str,
                 attributes: Sequence[str] = ("*",)) -> Entry:
    """The entry at `dn`, for an account of a domain the caller manages; errors as
    `require_account`. For a global admin the account's existence implies its domain's, so
    the domain is read only when the account is missing (one LDAP read instead of two)."""
    if not caller.is_global_admin:
        return require_account(repo, caller, mail, dn, what, attributes)[0]
    entry = repo.directory.get(dn, list(attributes))
    if entry is None:
        require_domain(repo, caller, mail.rsplit("@", 1)[1])
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {what} {mail}")
    return entry


def require_account(repo: Repository, caller: Caller, mail: str, dn: str, what: str,
                    attributes: Sequence[str] = ("*",)) -> tuple[Entry, Entry]:
    """(entry at `dn`, the domain's entry) for an account of a domain the caller manages.

    Raises PERMISSION_DENIED / NO_SUCH_DOMAIN as `require_domain`, and NO_SUCH_ACCOUNT
    (naming `what`) when there is no entry.
    """
    domain = require_domain(repo, caller, mail.rsplit("@", 1)[1], ["*"])
    entry = repo.directory.get(dn, list(attributes))
    if entry is None:
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {what} {mail}")
    return entry, domain


def is_hosted(repo: Repository, domain: str) -> bool:
    """Whether `domain` is a hosted domain or another domain's alias domain."""
    return hosting_domain(repo, domain) is not None


def hosting_domain(repo: Repository, domain: str) -> str | None:
    """The hosted domain that `domain` is, or is an alias domain of; None if neither."""
    value = escape_filter_value(domain)
    found = repo.directory.search(
        repo.basedn,
        f"(&{DOMAIN.search_filter}(|(domainName={value})(domainAliasName={value})))",
        Scope.ONE, ["domainName"])
    entry = next(iter(found), None)
    return None if entry is None else str(entry.first("domainName")).lower()


def require_within_privileges(repo: Repository, caller: Caller, entry: Entry) -> None:
    """PERMISSION_DENIED unless the caller's privileges cover those of the mail user at
    `entry`: a normal admin never acts on a global admin, nor on an admin of a domain it
    does not manage (it could take that account over and act in the other domain)."""
    beyond = privileges_beyond(repo, caller, entry)
    if beyond:
        raise PermissionDenied(detail=f"{entry.first('mail')} {beyond}")


def privileges_beyond(repo: Repository, caller: Caller, entry: Entry) -> str | None:
    """Why the account at `entry` has privileges the caller lacks (a short phrase), or
    None when it has none."""
    if caller.is_global_admin:
        return None
    if entry.has_value("domainGlobalAdmin", "yes"):
        return "is a global admin"
    mail = str(entry.first("mail", "")).lower()
    if not mail or mail == caller.mail:
        return None
    administered = domains_administered_by(repo, mail)
    if administered and not set(administered) <= set(managed_domains(repo, caller)):
        return "administers a domain you do not manage"
    theirs = _settings_of(repo, entry.dn)
    # The caller's settings are read only for an account that may create domains at all.
    if may_create_domains(theirs) and may_create_more(theirs, _settings_of(repo, caller.dn)):
        return "may create more domains than you"
    return None


def _settings_of(repo: Repository, dn: str) -> dict[str, object]:
    """An entry's accountSetting, read afresh (the entry in hand may lack it)."""
    entry = repo.directory.get(dn, ["accountSetting"])
    return {} if entry is None else dict(EntryDraft.of(entry).settings())


# Mail users that may hold privileges (indexed attributes: one cheap search per domain).
PRIVILEGED_USERS = (f"(&(objectClass={USER.marker})"
                    "(|(domainGlobalAdmin=yes)(enabledService=domainadmin)))")


def accounts_beyond(repo: Repository, caller: Caller, domain: str) -> dict[str, str]:
    """{address: why} of the domain's mail users whose privileges exceed the caller's."""
    if caller.is_global_admin:
        return {}
    found = {}
    for entry in repo.directory.search(repo.container_dn(domain, USER), PRIVILEGED_USERS,
                                       Scope.ONE, ["mail", "domainGlobalAdmin"]):
        why = privileges_beyond(repo, caller, entry)
        if why:
            found[str(entry.first("mail", "")).lower()] = why
    return found


def require_privileged_accounts_within(repo: Repository, caller: Caller, domain: str) -> None:
    """PERMISSION_DENIED when the domain holds a mail user whose privileges exceed the
    caller's: disabling or deleting the whole domain would disable or delete it too."""
    for mail, why in accounts_beyond(repo, caller, domain).items():
        raise PermissionDenied(detail=f"{mail} {why}")


def disabled_profiles(domain_entry: Entry, setting: str) -> set[str]:
    """The profile names a domain's accountSetting `setting` lists (lower-cased)."""
    prefix = setting.lower() + ":"
    return {str(item)[len(prefix):].lower() for item in domain_entry.get("accountSetting")
            if str(item).lower().startswith(prefix)}


def without_disabled(caller: Caller, table: Iterable[Profile], disabled: Container[str],
                     entry: Entry) -> Entry:
    """`entry` as a normal admin may see it: without the attributes of the profiles in
    `disabled` (a global admin sees all)."""
    if caller.is_global_admin or not disabled:
        return entry
    return Entry(entry.dn, hide_disabled(table, disabled, entry.attrs))


def scope_of(repo: Repository, caller: Caller) -> list[str] | None:
    """The domains whose entries the caller's deletes and renames may edit: None (all) for
    a global admin, the domains it manages for a normal admin."""
    return None if caller.is_global_admin else managed_domains(repo, caller)
