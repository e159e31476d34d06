"""What each LDIF export endpoint exports, and who may export it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..addresses import domain_of
from ..directory import Entry
from ..errors import Code, NotFound
from ..model.kinds import ADMIN, BY_API_NAME, CATCHALL, DOMAIN, EXTERNALS, USER
from ..model.parsing import parse_domain, parse_user_mail
from ..model.profiles import DOMAIN_PROFILES, DOMAIN_SETTING, USER_PROFILES, USER_SETTING
from .access import (
    accounts_beyond,
    disabled_profiles,
    require_domain,
    require_global_admin,
    require_within_privileges,
    without_disabled,
)
from .backup import walk
from .repository import Repository

if TYPE_CHECKING:
    from .auth import Caller

KINDS = tuple(BY_API_NAME)


class ExportService:
    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def entries(self, caller: Caller, kind: str, name: str) -> Iterator[Entry]:
        """The entries of one export, parents first (an iterator)."""
        if kind == "domain":
            domain = parse_domain(name)
            require_domain(self._repo, caller, domain)
            beyond = accounts_beyond(self._repo, caller, domain)
            visible = self._viewer(caller, domain)
            subtree = walk(self._repo.directory, self._repo.domain_dn(domain))
            return (visible(_without_password(e) if str(e.first("mail", "")).lower() in beyond
                            else e) for e in subtree)
        if kind == "catchall":
            domain = parse_domain(name)
            require_domain(self._repo, caller, domain)
            return iter([self._one(self._repo.dn(CATCHALL, "@" + domain),
                                   f"catch-all of {domain}")])
        mail = parse_user_mail(name)
        if kind == "admin":
            require_global_admin(caller)
            return iter([self._one(self._repo.dn(ADMIN, mail), f"admin {mail}")])
        domain = domain_of(mail)
        require_domain(self._repo, caller, domain)
        entries = [self._one(self._repo.dn(BY_API_NAME[kind], mail), f"{kind} {mail}")]
        if kind == "user":
            require_within_privileges(self._repo, caller, entries[0])
            entries = [self._viewer(caller, domain)(entries[0])]
        if kind == "maillist":  # with its external members' entry
            externals = self._repo.get(EXTERNALS, mail, ["*"])
            entries += [externals] if externals else []
        return iter(entries)

    def _viewer(self, caller: Caller, domain: str) -> Callable[[Entry], Entry]:
        """A function that leaves out of an entry what disabled profiles hide from a normal
        admin: a domain's domain profiles, a user's user profiles."""
        if caller.is_global_admin:
            return lambda entry: entry
        settings = self._repo.directory.get(self._repo.domain_dn(domain), ["accountSetting"])
        disabled = {table: disabled_profiles(settings, key) if settings else set()
                    for table, key in ((DOMAIN_PROFILES, DOMAIN_SETTING),
                                       (USER_PROFILES, USER_SETTING))}

        def visible(entry: Entry) -> Entry:
            for table, object_class in ((DOMAIN_PROFILES, DOMAIN.marker),
                                        (USER_PROFILES, USER.marker)):
                if entry.has_value("objectClass", object_class):
                    return without_disabled(caller, table, disabled[table], entry)
            return entry
        return visible

    def _one(self, dn: str, what: str) -> Entry:
        """The whole entry at `dn` (NO_SUCH_ACCOUNT naming `what` when there is none)."""
        entry = self._repo.directory.get(dn, ["*"])
        if entry is None:
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {what}")
        return entry


def _without_password(entry: Entry) -> Entry:
    """A copy of `entry` without its password hash: a normal admin's domain export of an
    account with privileges beyond its own (the hash could be cracked offline)."""
    return Entry(entry.dn, {name: values for name, values in entry.attrs.items()
                            if name.lower() != "userpassword"})
