"""Spam policy, throttling and greylisting: who may change what, and valid values.

A target is `global`, a domain or a user's address; its policy key is `@.`, `@domain` or the
address. Global targets are for global admins; a normal admin reaches its own domains and
their users only. A domain or user that does not exist is NO_SUCH_DOMAIN / NO_SUCH_ACCOUNT.
"""

from ..addresses import domain_of, is_domain, is_email
from ..errors import BadRequest, NotFound
from ..model.spampolicy import decode_spam_policy, encode_spam_policy
from ..policy import accounts
from .access import managed_domains, require_domain, require_global_admin

THROTTLE_KINDS = ("inbound", "outbound")
THROTTLE_LIMITS = ("msg_size", "max_msgs", "max_quota")
MAX_PERIOD = 2**32 - 1        # INT UNSIGNED
MAX_LIMIT = 2**63 - 1         # BIGINT
WHITELIST_SENDER_TYPES = ("ip", "cidr", "email", "domain", "subdomain")


class PolicyService:
    def __init__(self, directory, layout, store):
        self._directory = directory
        self._layout = layout
        self._store = store

    def account_key(self, caller, target):
        """The policy key of `target` ('global', a domain or an address), if the caller may
        manage it."""
        target = (target or "").strip().lower()
        if target == "global":
            require_global_admin(caller)
            return accounts.GLOBAL
        if "@" in target:
            if not is_email(target):
                raise BadRequest("INVALID_MAIL", detail=f"not an e-mail address: {target}")
            require_domain(self._directory, self._layout, caller, domain_of(target))
            if self._directory.get(self._layout.user_dn(target), ["mail"]) is None:
                raise NotFound("NO_SUCH_ACCOUNT", detail=f"no user {target}")
            return target
        if not is_domain(target):
            raise BadRequest("INVALID_DOMAIN_NAME", detail=f"not a domain name: {target}")
        require_domain(self._directory, self._layout, caller, target)
        return "@" + target

    # -- spam policy --------------------------------------------------------------------

    def get_spam_policy(self, caller, target):
        return decode_spam_policy(self._store.get_spam_policy(self.account_key(caller, target)))

    def set_spam_policy(self, caller, target, params):
        if not params:
            raise BadRequest("MISSING_PARAMETER", detail="no spam policy parameter given")
        columns = encode_spam_policy(params)  # validates before any permission lookup
        self._store.put_spam_policy(self.account_key(caller, target), columns)

    def delete_spam_policy(self, caller, target):
        self._store.delete_spam_policy(self.account_key(caller, target))

    # -- throttling ---------------------------------------------------------------------

    def get_throttle(self, caller, target, kind):
        row = self._store.get_throttle(self.account_key(caller, target), kind) or {}
        return {name: row[name] for name in ("period", *THROTTLE_LIMITS) if name in row}

    def set_throttle(self, caller, target, kind, params):
        if not params.get("period", "").strip():
            raise BadRequest("MISSING_PARAMETER", detail="period is required")
        if not any(name in params for name in THROTTLE_LIMITS):
            raise BadRequest("MISSING_PARAMETER",
                             detail="give at least one of " + ", ".join(THROTTLE_LIMITS))
        columns = {"period": _whole_number("period", params["period"], 1, MAX_PERIOD)}
        for name in THROTTLE_LIMITS:
            if name in params:
                columns[name] = _whole_number(name, params[name], 0, MAX_LIMIT)
        self._store.set_throttle(self.account_key(caller, target), kind, columns)

    def delete_throttle(self, caller, target, kind):
        self._store.delete_throttle(self.account_key(caller, target), kind)

    # -- greylisting --------------------------------------------------------------------

    def greylisting_settings(self, caller):
        """Every greylisting setting the caller may see."""
        rows = self._store.greylisting_settings()
        if caller.is_global_admin:
            return [_greylisting_row(row) for row in rows]
        domains = set(managed_domains(self._directory, self._layout, caller))
        return [_greylisting_row(row) for row in rows
                if row["account"].rsplit("@", 1)[-1] in domains]

    def get_greylisting(self, caller, target):
        active = self._store.get_greylisting(self.account_key(caller, target))
        return {"status": None if active is None else ("enable" if active else "disable")}

    def set_greylisting(self, caller, target, status):
        status = (status or "").strip().lower()
        if status not in ("enable", "disable"):
            raise BadRequest(detail="status must be enable or disable")
        self._store.set_greylisting(self.account_key(caller, target), status == "enable")

    def delete_greylisting(self, caller, target):
        self._store.delete_greylisting(self.account_key(caller, target))

    def greylisting_whitelists(self, caller, target):
        return self._store.greylisting_whitelists(self.account_key(caller, target))

    def update_greylisting_whitelists(self, caller, target, replace, add, remove):
        for sender in (replace or []) + add + remove:
            if accounts.account_type(sender) not in WHITELIST_SENDER_TYPES:
                raise BadRequest("INVALID_SENDER", detail=f"not an IP address, network, "
                                 f"address, @domain or @.domain: {sender}")
        return self._store.update_greylisting_whitelists(
            self.account_key(caller, target), replace, add, remove)

    def whitelist_spf_domains(self, caller):
        require_global_admin(caller)
        return self._store.whitelist_spf_domains()

    def update_whitelist_spf_domains(self, caller, replace, add, remove):
        require_global_admin(caller)
        for domain in (replace or []) + add + remove:
            if not is_domain(domain):
                raise BadRequest("INVALID_DOMAIN_NAME", detail=f"not a domain name: {domain}")
        return self._store.update_whitelist_spf_domains(replace, add, remove)


def _whole_number(name, value, low, high):
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadRequest(detail=f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _greylisting_row(row):
    return {"account": row["account"], "sender": row["sender"],
            "status": "enable" if row["active"] else "disable", "comment": row["comment"]}
