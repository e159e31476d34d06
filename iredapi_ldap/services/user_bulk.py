"""PUT /api/users/<domain>: one change for every user of a domain (API document, "Mail
User"). Streams, skips users already as asked (so a repeat finishes an interrupted run),
leaves alone the accounts with privileges beyond the caller's, and reports what changed and
what failed."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import passwords
from ..directory import Change, Entry, Scope
from ..errors import PermissionDenied
from ..model.draft import EntryDraft
from ..model.kinds import USER
from ..model.parsing import parse_domain
from ..model.profiles import USER_PROFILES, USER_SETTING, refuse_disabled
from ..model.user_rules import UserContext
from . import domainwide
from .access import accounts_beyond, disabled_profiles, require_domain
from .counters import USERS
from .repository import Repository

if TYPE_CHECKING:
    from ..config import Settings
    from .auth import Caller

# The user parameters one request may set for every user of a domain.
BULK_PARAMS = ("accountStatus", "password", "language", "transport")


class UsersOfDomain:
    def __init__(self, repo: Repository, settings: Settings) -> None:
        self._repo = repo
        self._settings = settings

    def update(self, caller: Caller, domain: str,
               params: Mapping[str, str]) -> domainwide.BulkResult:
        """accountStatus, password, language, transport for every user; returns the
        domainwide.BulkResult."""
        domain = parse_domain(domain)
        domain_entry = require_domain(self._repo, caller, domain, ["*"])
        params = USER.request(params, creating=False, accepted=BULK_PARAMS)
        if not caller.is_global_admin:
            refuse_disabled(USER_PROFILES, disabled_profiles(domain_entry, USER_SETTING),
                            params, "user")
        # Accounts with privileges beyond the caller's are left alone and reported.
        beyond = accounts_beyond(self._repo, caller, domain)
        template = EntryDraft()
        USER.apply(template, {k: v for k, v in params.items() if k != "password"}, caller,
                   creating=False)
        wanted = template.attributes()
        if "password" in params:  # checked once against the domain's password policy
            context = UserContext(
                is_global_admin=caller.is_global_admin, settings=self._settings,
                mail=f"x@{domain}", dn="", creating=False, load_domain=lambda: domain_entry,
                address_owner=lambda address: None, mailbox_home=None)
            USER.apply(EntryDraft(), {"password": params["password"]}, context,
                       creating=False)

        def changes_for(user: Entry) -> list[Change]:
            why = beyond.get(str(user.first("mail", "")).lower())
            if why:
                raise PermissionDenied(detail=f"{user.first('mail')} {why}")
            draft = EntryDraft.of(user)
            for attribute, values in wanted.items():
                draft.set(attribute, values)
            if "password" in params:
                draft.set("userPassword", [passwords.hash_password(
                    params["password"], self._settings.default_password_scheme)])
                draft.set("shadowLastChange", [str(int(time.time() // 86400))])
            return draft.changes()
        return domainwide.each_entry(
            self._repo.directory, self._repo.container_dn(domain, USER), USERS,
            ["mail", *wanted] + (["userPassword"] if "password" in params else []),
            changes_for, scope=Scope.ONE)
