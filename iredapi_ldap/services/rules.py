"""Parameters that change more than one attribute, each a small rule on an entry draft.

`DOMAIN_RULES` lists a domain's; `Bcc` and `Services` serve mail users too. The service
applies every rule whose parameters are present. Plain one-attribute parameters are rows of
`model.kinds`.
"""

import ipaddress
import re

from ..addresses import is_domain
from ..errors import BadRequest, Code, PermissionDenied
from ..model.fields import Email
from ..model.kinds import DOMAIN_SERVICES, USER_PREFERENCES
from ..model.profiles import DOMAIN_PROFILE_NAMES, USER_PROFILE_NAMES
from .values import split_words


class Bcc:
    """`senderBcc`/`recipientBcc`: the BCC address and the service that switches it on."""

    def __init__(self, param, attribute, service):
        self.params = (param,)
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
        self.params = ("services", "addService", "removeService", "removeAllServices")

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
        if not context.is_global_admin:
            raise PermissionDenied(detail="only global admins may make a domain a backup MX")
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
    withhold things from normal admins, so only global admins switch them
    (`global_only`); user preferences withhold things from mail users."""

    def __init__(self, suffix, setting, allowed, global_only=False):
        self.params = (f"disable{suffix}", f"enable{suffix}")
        self._setting, self._allowed = setting, allowed
        self._global_only = global_only

    def apply(self, draft, params, context):
        if self._global_only and not context.is_global_admin:
            raise PermissionDenied(detail=f"only global admins may {' or '.join(self.params)}")
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


def apply_rules(rules, draft, params, context):
    """Apply every rule of `rules` whose parameters the request gives."""
    for rule in rules:
        if any(p in params for p in rule.params):
            rule.apply(draft, params, context)


DOMAIN_RULES = (
    Bcc("senderBcc", "domainSenderBccAddress", "senderbcc"),
    Bcc("recipientBcc", "domainRecipientBccAddress", "recipientbcc"),
    Services(DOMAIN_SERVICES),
    BackupMx(),
    Profiles("DomainProfile", "disabledDomainProfile", DOMAIN_PROFILE_NAMES,
             global_only=True),
    Profiles("UserProfile", "disabledUserProfile", USER_PROFILE_NAMES, global_only=True),
    Profiles("UserPreference", "disabledUserPreference", USER_PREFERENCES),
)


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
