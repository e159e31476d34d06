"""The admins of a domain: its `domainAdmin` values (DESIGN.md section 3).

A mail user made a domain's admin also gets `enabledService: domainadmin`, so it can log in;
it loses that when it administers no domain any more. A normal admin may only promote mail
users of the domains it manages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..addresses import domain_of, is_email
from ..directory import Change, Op
from ..errors import BadRequest, Code, NotFound
from ..model.fields import Email
from ..model.kinds import ADMIN, USER
from ..model.parsing import parse_domain, refuse_unknown
from ..model.sets import SetParam
from .access import domains_administered_by, require_domain, require_within_privileges
from .repository import Repository

if TYPE_CHECKING:
    from .auth import Caller

# removeAllAdmins may come with addAdmin: the domain's admins are then those added.
ADMINS = SetParam(None, "addAdmin", "removeAdmin", "removeAllAdmins",
                  item=Email(allow_empty=False), remove_all_alone=False)


class DomainAdmins:
    def __init__(self, repo: Repository) -> None:
        self._repo = repo

    def list(self, caller: Caller, domain: str) -> list[str]:
        domain = parse_domain(domain)
        entry = require_domain(self._repo, caller, domain)
        return sorted(a.lower() for a in entry.get("domainAdmin"))

    def update(self, caller: Caller, domain: str, params: Mapping[str, str]) -> None:
        domain = parse_domain(domain)
        refuse_unknown(params, ADMINS.params())
        change = ADMINS.change(params)
        if change is None:
            raise BadRequest(Code.MISSING_PARAMETER, detail="give addAdmin, removeAdmin or "
                                                         "removeAllAdmins")
        entry = require_domain(self._repo, caller, domain)
        current = [a.lower() for a in entry.get("domainAdmin")]
        add = [self._admin_account(caller, a) for a in change.add]
        wanted = change.result(current)
        if not caller.is_global_admin:
            for mail in current if change.remove_all else change.remove:
                self._require_within(caller, mail)
        self._repo.directory.modify(self._repo.domain_dn(domain),
                                    [Change("domainAdmin", Op.REPLACE, tuple(wanted))])
        for mail in add:
            self._set_admin_service(mail, True)
        for mail in set(current) - set(wanted):
            self._set_admin_service(mail, self._still_admin(mail))

    def _admin_account(self, caller: Caller, mail: str) -> str:
        """Check `mail` can be an admin: a standalone admin, or a mail user; for a normal
        admin, only mail users of its own domains."""
        if self._repo.get(ADMIN, mail, ["1.1"]) is not None \
                and caller.is_global_admin:
            return mail
        if not caller.is_global_admin:
            require_domain(self._repo, caller, domain_of(mail))
        entry = self._repo.get(USER, mail, ["mail", "domainGlobalAdmin"])
        if entry is None:
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no admin or mail user {mail}")
        require_within_privileges(self._repo, caller, entry)
        return mail

    def _require_within(self, caller: Caller, mail: str) -> None:
        """A normal admin removes only admins whose privileges are within its own."""
        if mail == caller.mail or not is_email(mail):
            return
        for dn in (self._repo.dn(USER, mail), self._repo.dn(ADMIN, mail)):
            entry = self._repo.directory.get(dn, ["mail", "domainGlobalAdmin"])
            if entry is not None:
                require_within_privileges(self._repo, caller, entry)

    def _still_admin(self, mail: str) -> bool:
        return bool(domains_administered_by(self._repo, mail))

    def _set_admin_service(self, mail: str, on: bool) -> None:
        """Give or take `enabledService: domainadmin` on a mail user (not on standalone
        admins, which are admins by their object class)."""
        dn = self._repo.dn(USER, mail)
        entry = self._repo.directory.get(dn, ["enabledService"])
        if entry is None or entry.has_value("enabledService", "domainadmin") == on:
            return
        op = Op.ADD if on else Op.DELETE
        self._repo.directory.modify(dn, [Change("enabledService", op, ("domainadmin",))])

