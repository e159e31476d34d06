"""Standalone admins: `mailAdmin` entries under LDAP_ADMIN_BASEDN (global admins only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import passwords
from ..addresses import domain_of
from ..directory import Change, Entry, Op
from ..errors import BadRequest, Code, Conflict, EntryExists, NotFound
from ..model.draft import EntryDraft
from ..model.kinds import ADMIN
from ..model.parsing import parse_mail
from ..model.render import render_entry
from .access import domains_administered_by, is_hosted, require_global_admin
from .hidden import HiddenAttributes
from .repository import Repository

if TYPE_CHECKING:
    from ..config import Settings
    from .auth import Caller


@dataclass(frozen=True)
class _Context:
    is_global_admin: bool
    settings: object


class AdminService:
    def __init__(self, repo: Repository, settings: Settings) -> None:
        self._repo = repo
        self._settings = settings
        self._hidden = HiddenAttributes(settings.api_hidden_admin_profiles)

    def get(self, caller: Caller, mail: str) -> dict[str, object]:
        require_global_admin(caller)
        entry = self._entry(parse_mail(mail))
        data = render_entry(self._hidden.apply(entry), hidden=())
        data["managed_domains"] = self.managed_domains(str(entry.first("mail")).lower())
        return data

    def managed_domains(self, mail: str) -> list[str]:
        return domains_administered_by(self._repo, mail)

    def _entry(self, mail: str) -> Entry:
        entry = self._repo.get(ADMIN, mail)
        if entry is None:
            raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no standalone admin {mail}")
        return entry

    def create(self, caller: Caller, mail: str, params: Mapping[str, str]) -> None:
        require_global_admin(caller)
        mail = parse_mail(mail)
        params = ADMIN.request(params, creating=True)
        if is_hosted(self._repo, domain_of(mail)):
            raise BadRequest(Code.CAN_NOT_BE_LOCAL_DOMAIN,
                             detail="a standalone admin's address must not be in a hosted domain")
        draft = EntryDraft({"objectClass": list(ADMIN.object_classes), "mail": [mail],
                            "cn": [mail.split("@")[0]], "accountStatus": ["active"]})
        ADMIN.apply(draft, params, _Context(True, self._settings), creating=True)
        try:
            self._repo.directory.add(self._repo.dn(ADMIN, mail), draft.attributes())
        except EntryExists:
            raise Conflict(detail=f"admin {mail} exists already") from None

    def update(self, caller: Caller, mail: str, params: Mapping[str, str]) -> None:
        require_global_admin(caller)
        params = ADMIN.request(params, creating=False)
        entry = self._entry(parse_mail(mail))
        draft = EntryDraft.of(entry)
        ADMIN.apply(draft, params, _Context(True, self._settings), creating=False)
        self._repo.directory.modify(entry.dn, draft.changes())

    def delete(self, caller: Caller, mail: str) -> None:
        """Remove the admin and its address from every domain's domainAdmin."""
        require_global_admin(caller)
        mail = parse_mail(mail)
        entry = self._entry(mail)
        for domain in self.managed_domains(mail):
            self._repo.directory.modify(self._repo.domain_dn(domain),
                                        [Change("domainAdmin", Op.DELETE, (mail,))])
        self._repo.directory.delete(entry.dn)

    def verify_password(self, caller: Caller, mail: str, password: str) -> None:
        require_global_admin(caller)
        entry = self._entry(parse_mail(mail))
        if not passwords.verify(password, entry.get("userPassword")):
            raise BadRequest(Code.PW_MISMATCH, detail="the password does not match")
