"""Spam policy, white/blacklists, throttling and greylisting: who may change what, and
valid values.

A target is `global`, a domain or a user's address; its policy key is `@.`, `@domain` or the
address. Global targets are for global admins; a normal admin reaches its own domains and
their users only. A domain or user that does not exist is NO_SUCH_DOMAIN / NO_SUCH_ACCOUNT.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..addresses import domain_of, is_domain, is_email
from ..errors import BadRequest, Code, ConcurrentUpdate, NotFound
from ..model.kinds import USER
from ..model.profiles import DOMAIN_SETTING, USER_SETTING, refuse_disabled_endpoint
from ..model.spampolicy import decode_spam_policy, encode_spam_policy
from ..model.wblist import LISTS, parse_addresses
from ..numbers import whole_in_range
from ..policy import accounts
from .access import (
    disabled_profiles,
    managed_domain_entries,
    require_domain,
    require_global_admin,
    require_within_privileges,
)
from .repository import Repository

if TYPE_CHECKING:
    from ..policy.base import PolicyStore
    from .auth import Caller
    from .completions import Completions

THROTTLE_KINDS = ("inbound", "outbound")
THROTTLE_LIMITS = ("msg_size", "max_msgs", "max_quota")
MAX_PERIOD = 2**32 - 1        # INT UNSIGNED
MAX_LIMIT = 2**63 - 1         # BIGINT
RENAME_PATIENCE = 5.0         # seconds a policy write waits for a rename of its user
WHITELIST_SENDER_TYPES = ("ip", "cidr", "email", "domain", "subdomain")


class PolicyService:
    def __init__(self, repo: Repository, store: PolicyStore, completions: Completions) -> None:
        self._repo = repo
        self._store = store
        self._completions = completions

    def account_key(self, caller: Caller, target: str | None, profile: str) -> str:
        """The policy key of `target` ('global', a domain or an address), if the caller may
        manage it: for a normal admin, in a domain it manages, and unless a global admin
        disabled the domain's or its users' `profile` (spampolicy, throttle, ...)."""
        target = (target or "").lower()
        if target == "global":
            require_global_admin(caller)
            return accounts.GLOBAL
        if "@" in target:
            if not is_email(target):
                raise BadRequest(Code.INVALID_MAIL, detail=f"not an e-mail address: {target}")
            self._domain(caller, domain_of(target), USER_SETTING, profile, "user")
            entry = self._repo.get(USER, target, ["mail", "domainGlobalAdmin"])
            if entry is None:
                raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no user {target}")
            require_within_privileges(self._repo, caller, entry)
            return target
        if not is_domain(target):
            raise BadRequest(Code.INVALID_DOMAIN_NAME, detail=f"not a domain name: {target}")
        domain = self._domain(caller, target, DOMAIN_SETTING, profile, "domain")
        return "@" + domain

    def _domain(self, caller: Caller, domain: str, setting: str, profile: str,
                what: str) -> str:
        entry = require_domain(self._repo, caller, domain, ["accountSetting"])
        if not caller.is_global_admin:
            refuse_disabled_endpoint(profile, disabled_profiles(entry, setting), what)
        return domain

    def _still_there(self, key: str) -> None:
        """After writing a user's policy rows: if the user was deleted or renamed meanwhile
        (and its rows cleaned up or moved before ours landed), take ours away, so that no
        later account of the address inherits them."""
        if key.startswith("@") or "@" not in key:
            return
        if self._repo.get(USER, key, ["1.1"]) is not None:
            return
        if not self._rename_finished(key):
            raise ConcurrentUpdate(detail=f"{key} is being renamed; try again")
        # Deleted, or renamed: a rename that moved the rows before ours landed left ours
        # behind under the old address, where no account reads them.
        self._store.forget_accounts([key])
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no user {key}")

    def _rename_finished(self, key: str) -> bool:
        """Wait (briefly) for a rename of `key` under way to finish; whether none is left."""
        deadline = time.monotonic() + RENAME_PATIENCE
        while any(i.kind == "rename_user" for i in self._completions.pending(key)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    # -- spam policy --------------------------------------------------------------------

    def get_spam_policy(self, caller: Caller, target: str) -> dict[str, str | float | None]:
        key = self.account_key(caller, target, "spampolicy")
        return decode_spam_policy(self._store.get_spam_policy(key))

    def set_spam_policy(self, caller: Caller, target: str, params: Mapping[str, str]) -> None:
        if not params:
            raise BadRequest(Code.MISSING_PARAMETER, detail="no spam policy parameter given")
        columns = encode_spam_policy(params)  # validates before any permission lookup
        key = self.account_key(caller, target, "spampolicy")
        self._store.put_spam_policy(key, columns)
        self._still_there(key)

    def delete_spam_policy(self, caller: Caller, target: str) -> None:
        self._store.delete_spam_policy(self.account_key(caller, target, "spampolicy"))

    # -- white/blacklists (`direction`: inbound/outbound, `listing`: whitelist/blacklist) -

    def get_wblist(self, caller: Caller, target: str, direction: str,
                   listing: str) -> list[str]:
        key = self.account_key(caller, target, "wblist")
        return self._store.wblist(key, direction, LISTS[listing])

    def add_to_wblist(self, caller: Caller, target: str, direction: str, listing: str,
                      addresses: str) -> dict[str, list[str]]:
        """Put the valid ones of `addresses` (comma-separated) on the list, taking them off
        the other list of `direction`; {'discarded': the invalid ones}."""
        kept, discarded = parse_addresses(addresses)
        key = self.account_key(caller, target, "wblist")
        if kept:
            self._store.add_to_wblist(key, direction, LISTS[listing], kept)
            self._still_there(key)
        return {"discarded": discarded}

    def remove_from_wblist(self, caller: Caller, target: str, direction: str, listing: str,
                           addresses: str | None) -> dict[str, list[str]] | None:
        """Take the valid ones of `addresses` (None: every address) off the list;
        {'discarded': the invalid ones} when addresses are given."""
        key = self.account_key(caller, target, "wblist")
        if addresses is None:
            self._store.remove_from_wblist(key, direction, LISTS[listing])
            return None
        kept, discarded = parse_addresses(addresses)
        if kept:
            self._store.remove_from_wblist(key, direction, LISTS[listing], kept)
        return {"discarded": discarded}

    # -- throttling ---------------------------------------------------------------------

    def get_throttle(self, caller: Caller, target: str, kind: str) -> dict[str, Any]:
        row = self._store.get_throttle(self.account_key(caller, target, "throttle"), kind) or {}
        return {name: row[name] for name in ("period", *THROTTLE_LIMITS) if name in row}

    def set_throttle(self, caller: Caller, target: str, kind: str,
                     params: Mapping[str, str]) -> None:
        """Set the period and the limits given (only `period` is required: a new setting's
        other limits are -1, an existing one's stay). The values are checked before the
        target is looked up: a bad value is INVALID_PARAMETER whatever the target."""
        if not params.get("period", "").strip():
            raise BadRequest(Code.MISSING_PARAMETER, detail="period is required")
        columns = {"period": _whole_number("period", params["period"], 1, MAX_PERIOD)}
        for name in THROTTLE_LIMITS:
            if name in params:
                columns[name] = _whole_number(name, params[name], 0, MAX_LIMIT)
        key = self.account_key(caller, target, "throttle")
        self._store.set_throttle(key, kind, columns)
        self._still_there(key)

    def delete_throttle(self, caller: Caller, target: str, kind: str) -> None:
        self._store.delete_throttle(self.account_key(caller, target, "throttle"), kind)

    # -- greylisting --------------------------------------------------------------------

    def greylisting_settings(self, caller: Caller) -> list[dict[str, Any]]:
        """Every greylisting setting the caller may see."""
        rows = self._store.greylisting_settings()
        if caller.is_global_admin:
            return [_greylisting_row(row) for row in rows]
        # Per managed domain: the setting whose profile says whether its rows are shown.
        visible = {}
        for entry in managed_domain_entries(self._repo, caller, ["domainName", "accountSetting"]):
            name = str(entry.first("domainName", "")).lower()
            visible[name] = {
                setting: "greylisting" not in disabled_profiles(entry, setting)
                for setting in (DOMAIN_SETTING, USER_SETTING)}
        shown = []
        for row in rows:
            local, _, domain = row["account"].rpartition("@")
            setting = USER_SETTING if local else DOMAIN_SETTING
            if visible.get(domain, {}).get(setting):
                shown.append(_greylisting_row(row))
        return shown

    def get_greylisting(self, caller: Caller, target: str) -> dict[str, str | None]:
        active = self._store.get_greylisting(self.account_key(caller, target, "greylisting"))
        return {"status": None if active is None else ("enable" if active else "disable")}

    def set_greylisting(self, caller: Caller, target: str, status: str | None) -> None:
        status = (status or "").strip().lower()
        if status not in ("enable", "disable"):
            raise BadRequest(detail="status must be enable or disable")
        key = self.account_key(caller, target, "greylisting")
        self._store.set_greylisting(key, status == "enable")
        self._still_there(key)

    def delete_greylisting(self, caller: Caller, target: str) -> None:
        self._store.delete_greylisting(self.account_key(caller, target, "greylisting"))

    def greylisting_whitelists(self, caller: Caller, target: str) -> list[str]:
        return self._store.greylisting_whitelists(self.account_key(caller, target, "greylisting"))

    def update_greylisting_whitelists(self, caller: Caller, target: str,
                                      replace: list[str] | None, add: list[str],
                                      remove: list[str]) -> list[str]:
        for sender in (replace or []) + add + remove:
            if accounts.account_type(sender) not in WHITELIST_SENDER_TYPES:
                raise BadRequest(Code.INVALID_SENDER, detail=f"not an IP address, network, "
                                 f"address, @domain or @.domain: {sender}")
        key = self.account_key(caller, target, "greylisting")
        result = self._store.update_greylisting_whitelists(key, replace, add, remove)
        self._still_there(key)
        return result

    def whitelist_spf_domains(self, caller: Caller) -> list[str]:
        require_global_admin(caller)
        return self._store.whitelist_spf_domains()

    def update_whitelist_spf_domains(self, caller: Caller, replace: list[str] | None,
                                     add: list[str], remove: list[str]) -> list[str]:
        require_global_admin(caller)
        for domain in (replace or []) + add + remove:
            if not is_domain(domain):
                raise BadRequest(Code.INVALID_DOMAIN_NAME, detail=f"not a domain name: {domain}")
        return self._store.update_whitelist_spf_domains(replace, add, remove)


def _whole_number(name: str, value: str, low: int, high: int) -> int:
    number = whole_in_range(value.strip(), low, high)
    if number is None:
        raise BadRequest(detail=f"{name} must be a whole number from {low} to {high}")
    return number


def _greylisting_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"account": row["account"], "sender": row["sender"],
            "status": "enable" if row["active"] else "disable", "comment": row["comment"]}
