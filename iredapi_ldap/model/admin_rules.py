"""A standalone admin's parameters that are more than one attribute (see rules.py). Pure."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .. import passwords
from ..errors import BadRequest, Code
from .fields import YES_NO, Integer
from .params import RuleContext
from .parsing import stored_int
from .password_policy import check_new_password

if TYPE_CHECKING:
    from .draft import EntryDraft


class AdminContext(RuleContext, Protocol):
    """What an admin's rules ask: the settings (password rules and scheme)."""

    settings: Any

QUOTA_UNITS = ("TB", "GB", "MB")
_MEGABYTES = {"TB": 1024 * 1024, "GB": 1024, "MB": 1}
# Settings that only mean something for a normal admin; a global admin has none.
ADMIN_LIMIT_SETTINGS = ("create_new_domains", "create_max_domains", "create_max_quota",
                        "create_quota_unit", "create_max_users", "create_max_aliases",
                        "create_max_lists")
_CREATION_LIMITS = ("create_max_domains", "create_max_users", "create_max_aliases",
                    "create_max_lists")


def may_create_domains(settings: Mapping[str, Any]) -> bool:
    """Whether a normal admin with this accountSetting may create domains."""
    return str(settings.get("create_new_domains", "")).lower() == "yes"


def may_create_more(account: Mapping[str, Any], caller: Mapping[str, Any]) -> bool:
    """Whether the admin whose accountSetting is `account` may create domains beyond what
    `caller`'s settings allow: it may create domains and the caller may not, or one of its
    creation limits is looser (0 or absent: no limit). Taking such an account over would
    lift the caller's own limits."""
    def limits(settings: Mapping[str, Any]) -> list[int]:
        unit = _MEGABYTES.get(str(settings.get("create_quota_unit", "MB")).upper(), 1)
        return [stored_int(settings.get(name)) for name in _CREATION_LIMITS] + [
            stored_int(settings.get("create_max_quota")) * unit]

    if not may_create_domains(account):
        return False
    if not may_create_domains(caller):
        return True
    return any(mine > 0 and (theirs <= 0 or theirs > mine)
               for theirs, mine in zip(limits(account), limits(caller), strict=True))


class AdminPassword:
    """`password`: checked against the global rules, hashed with the default scheme."""

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: AdminContext) -> None:
        check_new_password(params["password"], context.settings)
        draft.set("userPassword", [passwords.hash_password(
            params["password"], context.settings.default_password_scheme)])
        draft.set("shadowLastChange", [str(int(time.time() // 86400))])


class MaxDomains:
    """`maxDomains`: how many domains the admin may create (0: none)."""

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: AdminContext) -> None:
        count = int(Integer(0).encode("maxDomains", params["maxDomains"])[0])
        draft.set_setting("create_new_domains", "yes" if count else None)
        draft.set_setting("create_max_domains", str(count) if count else None)


class MaxQuota:
    """`maxQuota` with `quotaUnit`: the quota the admin may hand out over its domains."""

    params = ("maxQuota", "quotaUnit")

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: AdminContext) -> None:
        if not all(p in params for p in self.params):
            raise BadRequest(Code.MISSING_PARAMETER, detail="maxQuota and quotaUnit go together")
        quota = int(Integer(0).encode("maxQuota", params["maxQuota"])[0])
        unit = params["quotaUnit"].strip().upper()
        if unit not in QUOTA_UNITS:
            raise BadRequest(detail="quotaUnit must be TB, GB or MB")
        draft.set_setting("create_max_quota", str(quota) if quota else None)
        draft.set_setting("create_quota_unit", unit if quota else None)


class Privilege:
    """A yes/no switch kept as the absence/presence of a disabledService value that
    withholds the privilege (facts file, 3.6)."""

    def __init__(self, param: str, service: str) -> None:
        self._param, self._service = param, service

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: AdminContext) -> None:
        granted = YES_NO.encode(self._param, params[self._param])
        (draft.add if granted else draft.remove)("disabledService", self._service)


class GlobalAdminHasNoLimits:
    """Invariant: a global admin keeps no per-admin limits."""

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: AdminContext) -> None:
        if draft.has("domainGlobalAdmin", "yes"):
            for key in ADMIN_LIMIT_SETTINGS:
                draft.set_setting(key, None)
