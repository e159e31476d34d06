"""PUT /api/users/<domain>: one change for every user of a domain (API document, "Mail
User"). Streams, skips users already as asked (so a repeat finishes an interrupted run),
leaves alone the accounts with privileges beyond the caller's, and reports what changed and
what failed."""

import time

from .. import passwords
from ..directory import Scope
from ..errors import BadRequest, Code, PermissionDenied
from ..model.draft import EntryDraft
from ..model.kinds import USER_FIELDS
from ..model.mapping import apply_fields
from ..model.profiles import USER_PROFILES, USER_SETTING, refuse_disabled
from . import domainwide
from .access import accounts_beyond, disabled_profiles, require_domain
from .counters import USERS
from .domains import parse_domain
from .rules import apply_rules
from .user_rules import USER_RULES, UserContext
from .values import refuse_unknown

BULK_PARAMS = ("accountStatus", "password", "language", "transport")


class UsersOfDomain:
    def __init__(self, directory, layout, settings):
        self._directory = directory
        self._layout = layout
        self._settings = settings

    def update(self, caller, domain, params):
        """accountStatus, password, language, transport for every user; returns the
        domainwide.BulkResult."""
        domain = parse_domain(domain)
        domain_entry = require_domain(self._directory, self._layout, caller, domain, ["*"])
        refuse_unknown(params, BULK_PARAMS)
        if not params:
            raise BadRequest(Code.MISSING_PARAMETER, detail="give at least one of "
                                                         + ", ".join(BULK_PARAMS))
        if not caller.is_global_admin:
            refuse_disabled(USER_PROFILES, disabled_profiles(domain_entry, USER_SETTING),
                            params, "user")
        # Accounts with privileges beyond the caller's are left alone and reported.
        beyond = accounts_beyond(self._directory, self._layout, caller, domain)
        template = EntryDraft()
        apply_fields(USER_FIELDS, {k: v for k, v in params.items() if k != "password"},
                     template, creating=False)
        wanted = template.attributes()
        if "password" in params:  # checked once against the domain's password policy
            context = UserContext(
                is_global_admin=caller.is_global_admin, settings=self._settings,
                mail=f"x@{domain}", dn="", load_domain=lambda: domain_entry,
                address_owner=lambda address: None)
            apply_rules(USER_RULES, EntryDraft(), {"password": params["password"]}, context)

        def changes_for(user):
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
            self._directory, self._layout.container_dn(domain, "Users"), USERS,
            ["mail", *wanted] + (["userPassword"] if "password" in params else []),
            changes_for, scope=Scope.ONE)
