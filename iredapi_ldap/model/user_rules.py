"""Mail-user parameters that are more than one attribute (see rules.py for the pattern).
The context answers the questions that need the directory. Pure."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .. import passwords
from ..addresses import domain_of
from ..errors import BadRequest, Code, Conflict, LimitExceeded
from .draft import EntryDraft
from .fields import MB, Email
from .limits import DomainLimits
from .parsing import stored_int
from .password_policy import check_new_password
from .sets import SetParam

if TYPE_CHECKING:
    from ..directory.base import Entry


@dataclass
class UserContext:
    """What the rules may ask. The domain's entry is read only if a rule needs it."""

    is_global_admin: bool
    settings: Any
    mail: str
    dn: str                     # the user's entry (new or existing)
    creating: bool
    load_domain: Callable[[], Entry]              # the domain's entry
    address_owner: Callable[[str], str | None]    # DN of the entry that has an address
    mailbox_home: Callable[[str], str] | None     # maildir parameter -> homeDirectory

    @cached_property
    def own_domains(self) -> tuple[str, ...]:
        """The user's domain and its alias domains."""
        aliases = (a.lower() for a in self.load_domain().get("domainAliasName"))
        return (domain_of(self.mail), *aliases)

    @cached_property
    def _domain_settings(self) -> dict[str, Any]:
        return EntryDraft.of(self.load_domain()).settings()

    @cached_property
    def limits(self) -> DomainLimits:
        return DomainLimits.of(self.load_domain())

    @property
    def min_length(self) -> int:
        return stored_int(self._domain_settings.get("minPasswordLength"))

    @property
    def max_length(self) -> int:
        return stored_int(self._domain_settings.get("maxPasswordLength"))


FORWARDING = SetParam("forwarding", "addForwarding", "removeForwarding", None,
                      item=Email(allow_empty=False))
ALIASES = SetParam("aliases", "addAlias", "removeAlias", None, item=Email(allow_empty=False))


class Password:
    params = ("password", "password_hash")

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: UserContext) -> None:
        if "password" in params and "password_hash" in params:
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail="password conflicts with password_hash")
        if "password" in params:
            check_new_password(params["password"], context.settings, context.min_length,
                               context.max_length)
            stored = passwords.hash_password(params["password"],
                                             context.settings.default_password_scheme)
        else:
            try:
                stored = passwords.normalize_hash(params["password_hash"])
            except ValueError as exc:
                raise BadRequest(Code.INVALID_PASSWORD_SCHEME, detail=str(exc)) from None
        draft.set("userPassword", [stored])
        draft.set("shadowLastChange", [str(int(time.time() // 86400))])


class Forwarding:
    """`forwarding`, or `addForwarding`/`removeForwarding`. In-domain targets must exist;
    `enabledService: forward` stays, so Postfix keeps using the list."""

    params = FORWARDING.params()

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: UserContext) -> None:
        current = [a.lower() for a in draft.get("mailForwardingAddress")]
        wanted = FORWARDING.given(params).result(current)
        for target in wanted:
            if target not in current and target != context.mail \
                    and domain_of(target) in context.own_domains \
                    and context.address_owner(target) is None:
                raise BadRequest(Code.INVALID_FORWARDING,
                                 detail=f"forwarding target {target} does not exist")
        draft.set("mailForwardingAddress", wanted)
        draft.add("enabledService", "forward")


class Aliases:
    """`aliases`, or `addAlias`/`removeAlias`: the user's own extra addresses
    (shadowAddress). They must be in the user's domain or its alias domains and belong to
    nobody else. The user's twins in alias domains are kept as they are."""

    params = ALIASES.params()

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: UserContext) -> None:
        change = ALIASES.given(params)
        local = context.mail.rsplit("@", 1)[0]
        twins = {f"{local}@{d}" for d in context.own_domains}
        current = [a.lower() for a in draft.get("shadowAddress")]
        wanted = change.result([a for a in current if a not in twins])
        for alias in wanted:
            if domain_of(alias) not in context.own_domains:
                raise BadRequest(Code.INVALID_ALIAS, detail=f"{alias} is not in the user's "
                                                         "domain or its alias domains")
            owner = context.address_owner(alias)
            if alias == context.mail or (owner and owner.lower() != context.dn.lower()):
                raise Conflict(detail=f"{alias} is already used")
        kept_twins = [a for a in current if a in twins]
        draft.set("shadowAddress", list(dict.fromkeys(kept_twins + wanted)))
        if wanted:
            draft.add("enabledService", "shadowaddress")


class QuotaWithinDomain:
    """`quota` (stored in bytes by its row): on create, 0 means the domain's defaultQuota;
    never more than the domain's maxUserQuota, and then never unlimited."""

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: UserContext) -> None:
        limits = context.limits
        quota = stored_int(draft.first("mailQuota"))
        if context.creating and quota == 0:
            quota = limits.default_quota
        if limits.max_user_quota and (quota == 0 or quota > limits.max_user_quota):
            raise LimitExceeded(detail=f"the domain allows at most "
                                       f"{limits.max_user_quota // MB} MB per user")
        draft.set("mailQuota", [str(quota)])


class Maildir:
    """`maildir`: the mailbox path, checked and normalised by the context (who may point a
    mailbox where: services/mailboxes.py)."""

    def apply(self, draft: EntryDraft, params: Mapping[str, str], context: UserContext) -> None:
        if context.mailbox_home is None:
            raise TypeError("this request's context has no mailbox paths")
        draft.set("homeDirectory", [context.mailbox_home(params["maildir"])])
