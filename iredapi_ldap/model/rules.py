"""Rules of parameters that change more than one attribute, each applied to an entry draft.

A row of a kind (model/kinds.py) names its rule; the kind applies it when the request gives
one of the rule's parameters. The rules here serve domains and mail users; the user's own are
in user_rules.py, a standalone admin's in admin_rules.py. A rule asks the context what needs
the directory or the caller (`context.is_global_admin`, ...). Pure.
"""

import ipaddress
import re

from ..addresses import is_domain
from ..errors import BadRequest, Code, PermissionDenied
from .fields import Email
from .parsing import parse_domain, split_words

# Domain services and self-service preferences (API document, PUT /api/domain).
DOMAIN_SERVICES = ("mail", "domainalias", "senderbcc", "recipientbcc", "self-service")
USER_PREFERENCES = ("personal_info", "forwarding", "wblist", "quarantine", "rcvd_mails",
                    "spampolicy")


class Bcc:
    """`senderBcc`/`recipientBcc`: the BCC address and the service that switches it on."""

    def __init__(self, param, attribute, service):
        self._param, self._attribute, self._service = param, attribute, service

    def apply(self, draft, params, context):
        address = Email().encode(self._param, params[self._param])
        draft.set(self._attribute, address)
        if address:
            draft.add("enabledService", self._service)
        else:
            draft.remove("enabledService", self._service)


# What `removeAllServices=` may say; the API document gives it with an empty value.
REMOVE_ALL = ("", "yes", "true", "1")


class Services:
    """`services` (the whole set), or `addService`/`removeService`, or `removeAllServices`.

    `allowed` is a tuple of names, or None for any name of letters, digits, `.`, `_`, `-`
    (mail users may carry custom services).
    """

    def __init__(self, allowed=None, global_only=()):
        self._allowed = allowed
        self._global_only = global_only

    params = ("services", "addService", "removeService", "removeAllServices")

    def apply(self, draft, params, context):
        given = [p for p in self.params if p in params]
        if str(params.get("removeAllServices", "")).strip().lower() not in REMOVE_ALL:
            raise BadRequest(detail="removeAllServices takes no value (or yes): "
                                    "leave it out to keep the services")
        if len(given) > 1 and ("services" in given or "removeAllServices" in given):
            raise BadRequest(Code.CONFLICTING_PARAMETERS, detail=" conflicts with ".join(given))
        names = {p: split_words(params[p]) for p in given if p != "removeAllServices"}
        for name in (n for values in names.values() for n in values):
            self._check(name)
        granted = set(names.get("services", []) + names.get("addService", []))
        privileged = granted & set(self._global_only)
        if privileged and not context.is_global_admin:
            raise PermissionDenied(detail=f"only global admins may grant {', '.join(privileged)}"
                                          " (make a user a domain's admin with PUT "
                                          "/api/domain/admins/<domain>)")
        if "removeAllServices" in params:
            draft.set("enabledService", [])
        elif "services" in params:
            draft.set("enabledService", names["services"])
        else:
            draft.add("enabledService", *names.get("addService", []))
            draft.remove("enabledService", *names.get("removeService", []))

    def _check(self, name):
        if self._allowed is None:
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", name):
                raise BadRequest(detail=f"not a service name: {name}")
        elif name not in self._allowed:
            raise BadRequest(detail=f"unknown service {name} "
                                    f"(one of {', '.join(self._allowed)})")


class BackupMx:
    """`is_backupmx` with `primarymx`: relay the domain's mail to its primary MX."""

    params = ("is_backupmx", "primarymx")

    def apply(self, draft, params, context):
        if "transport" in params:
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail="is_backupmx/primarymx conflict with transport")
        flag = params.get("is_backupmx", "").strip().lower()
        if flag == "yes":
            if not params.get("primarymx", "").strip():
                raise BadRequest(Code.MISSING_PARAMETER, detail="is_backupmx=yes needs primarymx")
            draft.set("domainBackupMX", ["yes"])
            draft.set("mtaTransport", ["relay:" + next_hop(params["primarymx"])])
        elif flag == "no":
            if "primarymx" in params:
                raise BadRequest(Code.CONFLICTING_PARAMETERS,
                                 detail="primarymx is only for is_backupmx=yes")
            draft.set("domainBackupMX", [])
            draft.set("mtaTransport", [context.default_transport])
        else:
            raise BadRequest(detail="is_backupmx must be yes or no, and primarymx needs it")


class Profiles:
    """enable/disable of domain profiles, user profiles and user preferences. Profiles
    withhold things from normal admins, so their rows are for global admins only; user
    preferences withhold things from mail users."""

    def __init__(self, suffix, setting, allowed):
        self.params = (f"disable{suffix}", f"enable{suffix}")
        self._setting, self._allowed = setting, allowed

    def apply(self, draft, params, context):
        disable, enable = (split_words(params.get(p, "")) for p in self.params)
        for name in disable + enable:
            if name not in self._allowed:
                raise BadRequest(detail=f"unknown name {name} (one of "
                                        f"{', '.join(self._allowed)})")
        if set(disable) & set(enable):
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail=" and ".join(self.params) + " name the same item")
        current = draft.settings().get(self._setting, [])
        kept = [name for name in current if name not in enable]
        draft.set_setting(self._setting, kept + [n for n in disable if n not in kept])


class AliasDomains:
    """`aliasDomains`, or `addAliasDomain`/`removeAliasDomain`: the domain's other names.
    A new one must not be hosted already (`context.refuse_taken`)."""

    params = ("aliasDomains", "addAliasDomain", "removeAliasDomain")

    def apply(self, draft, params, context):
        given = [p for p in self.params if p in params]
        if "aliasDomains" in given and len(given) > 1:
            raise BadRequest(Code.CONFLICTING_PARAMETERS, detail=" conflicts with ".join(given))
        current = [a.lower() for a in draft.get("domainAliasName")]
        names = {p: [parse_domain(n) for n in split_words(params[p])] for p in given}
        if "aliasDomains" in names:
            wanted = names["aliasDomains"]
        else:
            wanted = [a for a in current + names.get("addAliasDomain", [])
                      if a not in names.get("removeAliasDomain", [])]
        wanted = list(dict.fromkeys(wanted))
        for alias in wanted:
            if alias == context.domain:
                raise BadRequest(detail="a domain cannot be its own alias domain")
            if alias not in current:
                context.refuse_taken(alias)
        draft.set("domainAliasName", wanted)
        (draft.add if wanted else draft.remove)("enabledService", "domainalias")

    @staticmethod
    def changed(before, draft, params):
        """(added, removed) alias domains between the entry `before` and `draft`; a repeat
        of a request finishes what an interrupted one left, so the named ones count as
        added again."""
        current = [a.lower() for a in before.get("domainAliasName")]
        wanted = [a.lower() for a in draft.get("domainAliasName")]
        named = split_words(params.get("addAliasDomain", ""))
        added = [a for a in wanted if a not in current or a in named]
        return added, [a for a in current if a not in wanted]


def next_hop(text):
    """`host`, `host:port`, `[host]` or `[host]:port` as Postfix's `[host]:port` form."""
    value = text.strip().lower()
    match = re.fullmatch(r"\[([^\]]+)\](?::([0-9]{1,5}))?|([^:\[\]]+)(?::([0-9]{1,5}))?", value)
    if not match:
        raise BadRequest(detail="primarymx must be a host name or IP address, with an "
                                "optional :port")
    host = match.group(1) or match.group(3)
    port = match.group(2) or match.group(4)
    if not (is_domain(host) or _is_ip(host)) or (port and not 0 < int(port) < 65536):
        raise BadRequest(detail=f"primarymx: not a host name or IP address: {host}")
    return f"[{host}]" + (f":{port}" if port else "")


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
