"""Rules of parameters that change more than one attribute, each applied to an entry draft.

A row of a kind (model/kinds.py) names its rule; the kind applies it when the request gives
one of the rule's parameters. The rules here serve domains and mail users; the user's own are
in user_rules.py, a standalone admin's in admin_rules.py. A rule asks the context what needs
the directory or the caller (`context.is_global_admin`, ...). Pure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from ..addresses import is_domain
from ..errors import BadRequest, Code, PermissionDenied
from .fields import DomainName, Email, Word
from .params import RuleContext
from .parsing import split_words
from .sets import SetParam

if TYPE_CHECKING:
    from ..directory.base import Entry
    from .draft import EntryDraft


class DomainContext(RuleContext, Protocol):
    """What the domain rules ask: the domain, its default transport, and whether a name is
    hosted already (`refuse_taken` raises when it is)."""

    default_transport: str
    domain: str
    refuse_taken: Callable[[str], None]

# Domain services and self-service preferences (API document, PUT /api/domain).
DOMAIN_SERVICES = ("mail", "domainalias", "senderbcc", "recipientbcc", "self-service")
USER_PREFERENCES = ("personal_info", "forwarding", "wblist", "quarantine", "rcvd_mails",
                    "spampolicy")


class Bcc:
    """`senderBcc`/`recipientBcc`: the BCC address and the service that switches it on."""

    def __init__(self, param: str, attribute: str, service: str) -> None:
        self._param, self._attribute, self._service = param, attribute, service

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: RuleContext) -> None:
        address = Email().encode(self._param, params[self._param])
        draft.set(self._attribute, address)
        if address:
            draft.add("enabledService", self._service)
        else:
            draft.remove("enabledService", self._service)


class Services:
    """`services` (the whole set), or `addService`/`removeService`, or `removeAllServices`:
    the set of `enabledService`. `allowed` is a tuple of names, or None for any name of
    letters, digits, `.`, `_`, `-` (mail users may carry custom services); `global_only`
    names only a global admin may grant."""

    params = ("services", "addService", "removeService", "removeAllServices")

    def __init__(self, allowed: tuple[str, ...] | None = None,
                 global_only: tuple[str, ...] = ()) -> None:
        self._set = SetParam(*self.params, item=Word(allowed, "service name" if allowed is None
                                                       else "service"))
        self._global_only = global_only

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: RuleContext) -> None:
        change = self._set.given(params)
        privileged = set(change.whole or change.add) & set(self._global_only)
        if privileged and not context.is_global_admin:
            raise PermissionDenied(detail=f"only global admins may grant {', '.join(privileged)}"
                                          " (make a user a domain's admin with PUT "
                                          "/api/domain/admins/<domain>)")
        draft.set("enabledService", change.result(draft.get("enabledService")))


# The transport of a backup MX domain: Postfix's `relay` service. Without a next hop
# (`relay:`), Postfix takes the recipient's domain as the next hop and looks up its MX
# records in DNS (transport(5)), skipping itself and every MX not more preferred than
# itself: mail goes on to the primary MX, and each alias domain by its own MX records.
RELAY_TRANSPORT = "relay"


class BackupMx:
    """`is_backupmx` (with `primarymx`, or without: DNS finds the primary MX): relay the
    domain's mail on to its primary MX instead of delivering it here."""

    params = ("is_backupmx", "primarymx")

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: DomainContext) -> None:
        if "transport" in params:
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail="is_backupmx/primarymx conflict with transport")
        flag = params.get("is_backupmx", "").strip().lower()
        if flag == "yes":
            primary = params.get("primarymx", "").strip()
            draft.set("domainBackupMX", ["yes"])
            draft.set("mtaTransport",
                      [f"{RELAY_TRANSPORT}:{next_hop(primary) if primary else ''}"])
        elif flag == "no":
            if "primarymx" in params:
                raise BadRequest(Code.CONFLICTING_PARAMETERS,
                                 detail="primarymx is only for is_backupmx=yes")
            draft.set("domainBackupMX", [])
            draft.set("mtaTransport", [context.default_transport])
        else:
            raise BadRequest(detail="is_backupmx must be yes or no, and primarymx needs it")


class Profiles:
    """enable/disable of domain profiles, user profiles and user preferences: the set of an
    accountSetting list key. Profiles withhold things from normal admins, so their rows are
    for global admins only; user preferences withhold things from mail users."""

    def __init__(self, suffix: str, setting: str, allowed: tuple[str, ...]) -> None:
        self.params = (f"disable{suffix}", f"enable{suffix}")
        self._set = SetParam(None, *self.params, None, item=Word(allowed))
        self._setting = setting

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: RuleContext) -> None:
        change = self._set.given(params)
        if {n.lower() for n in change.add} & {n.lower() for n in change.remove}:
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail=" and ".join(self.params) + " name the same item")
        draft.set_setting(self._setting,
                          change.result(draft.settings().get(self._setting, [])))


ALIAS_DOMAINS = SetParam("aliasDomains", "addAliasDomain", "removeAliasDomain", None,
                         item=DomainName())


class AliasDomains:
    """`aliasDomains`, or `addAliasDomain`/`removeAliasDomain`: the domain's other names.
    A new one must not be hosted already (`context.refuse_taken`)."""

    params = ALIAS_DOMAINS.params()

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: DomainContext) -> None:
        current = [a.lower() for a in draft.get("domainAliasName")]
        wanted = ALIAS_DOMAINS.given(params).result(current)
        for alias in wanted:
            if alias == context.domain:
                raise BadRequest(detail="a domain cannot be its own alias domain")
            if alias not in current:
                context.refuse_taken(alias)
        draft.set("domainAliasName", wanted)
        (draft.add if wanted else draft.remove)("enabledService", "domainalias")

    @staticmethod
    def changed(before: Entry, draft: EntryDraft,
                params: Mapping[str, str]) -> tuple[list[str], list[str]]:
        """(added, removed) alias domains between the entry `before` and `draft`; a repeat
        of a request finishes what an interrupted one left, so the named ones count as
        added again."""
        current = [a.lower() for a in before.get("domainAliasName")]
        wanted = [a.lower() for a in draft.get("domainAliasName")]
        named = split_words(params.get("addAliasDomain", ""))
        added = [a for a in wanted if a not in current or a in named]
        return added, [a for a in current if a not in wanted]


def next_hop(text: str) -> str:
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


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
