"""Domain and user profiles a global admin can withhold from normal admins. Pure.

A domain's `accountSetting` lists the disabled ones (`disabledDomainProfile:<name>`,
`disabledUserProfile:<name>`). The API document: normal admins "cannot view and update
disabled profiles". Each row names what a profile covers: the parameters of PUT (and POST)
it governs, the keys of the GET reply it shows, and whether the policy endpoint of the same
name (`/api/spampolicy`, `/api/throttle`, `/api/greylisting`, `/api/wblist`) belongs to it.
"""

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ..errors import BadRequest, PermissionDenied
from .fields import Verbatim
from .rules import Services
from .sets import SetParam

_Value = TypeVar("_Value")


@dataclass(frozen=True)
class Profile:
    name: str
    params: tuple[str, ...] = ()    # request parameters it governs
    shown: tuple[str, ...] = ()     # reply keys (attributes, or added keys such as `catchall`)
    services: tuple[str, ...] = ()  # enabledService values that switch it on and off


# The policy endpoints, each a profile of the same name at domain and at user level.
ENDPOINT_PROFILES = ("throttle", "greylisting", "wblist", "spampolicy")

DOMAIN_PROFILES = (
    Profile("bcc", ("senderBcc", "recipientBcc"),
            ("domainSenderBccAddress", "domainRecipientBccAddress"),
            ("senderbcc", "recipientbcc")),
    Profile("relay", ("transport", "outboundRelay"), ("mtaTransport", "senderRelayHost")),
    Profile("catchall", ("catchall",), ("catchall",)),
    Profile("aliases", ("aliasDomains", "addAliasDomain", "removeAliasDomain"),
            ("domainAliasName",), ("domainalias",)),
    *(Profile(name) for name in ENDPOINT_PROFILES),
    Profile("backupmx", ("is_backupmx", "primarymx"), ("domainBackupMX",)),
    Profile("password_policies", ("minPasswordLength", "maxPasswordLength")),
    # iRedAdmin's "advanced" tab: the default language of new users (and a time zone).
    Profile("advanced", ("language",), ("preferredLanguage",)),
)

USER_PROFILES = (
    Profile("bcc", ("senderBcc", "recipientBcc"),
            ("userSenderBccAddress", "userRecipientBccAddress"), ("senderbcc", "recipientbcc")),
    Profile("forwarding", ("forwarding", "addForwarding", "removeForwarding"),
            ("mailForwardingAddress",), ("forward",)),
    Profile("relay", ("transport",), ("mtaTransport", "senderRelayHost")),
    Profile("aliases", ("aliases", "addAlias", "removeAlias"), ("shadowAddress",),
            ("shadowaddress",)),
    *(Profile(name) for name in ENDPOINT_PROFILES),
)

DOMAIN_PROFILE_NAMES = tuple(profile.name for profile in DOMAIN_PROFILES)
USER_PROFILE_NAMES = tuple(profile.name for profile in USER_PROFILES)

# The accountSetting keys that list the disabled profiles of each table.
DOMAIN_SETTING = "disabledDomainProfile"
USER_SETTING = "disabledUserProfile"


def refuse_disabled(table: Iterable[Profile], disabled: Container[str],
                    params: Mapping[str, str], what: str,
                    services: Iterable[str] = ()) -> None:
    """PERMISSION_DENIED when `params` name a parameter of a profile in `disabled`, or would
    switch one of its services on or off (`services`: the account's enabledService now)."""
    now = {s.lower() for s in services}
    for profile in table:
        if profile.name not in disabled:
            continue
        given = [p for p in profile.params if p in params]
        if given or any(_switches(params, service, now) for service in profile.services):
            raise PermissionDenied(detail=f"the {what} profile {profile.name} is disabled "
                                          f"({', '.join(given) or 'its services'})")


# The services parameters, read only to see what they would switch (their values are
# checked where they are applied: model/rules.py).
_SERVICES = SetParam(*Services.params, item=Verbatim())


def _switches(params: Mapping[str, str], service: str, now: set[str]) -> bool:
    """Whether the services parameters would turn `service` on or off."""
    try:
        change = _SERVICES.change(params)
    except BadRequest:  # applying them refuses them, whoever gives them
        return False
    after = {name.lower() for name in change.result(sorted(now))} if change else now
    return (service in now) != (service in after)


def refuse_disabled_endpoint(name: str, disabled: Container[str], what: str) -> None:
    """PERMISSION_DENIED when the endpoint's profile `name` is in `disabled`."""
    if name in disabled:
        raise PermissionDenied(detail=f"the {what} profile {name} is disabled")


def hidden_keys(table: Iterable[Profile], disabled: Container[str]) -> set[str]:
    """The reply keys (lower-case) of the profiles in `disabled`."""
    return {key.lower() for profile in table if profile.name in disabled
            for key in profile.shown}


def hide_disabled(table: Iterable[Profile], disabled: Container[str],
                  reply: Mapping[str, _Value]) -> dict[str, _Value]:
    """`reply` (a dict, or an entry's attributes) without the keys of the profiles in
    `disabled`."""
    hidden = hidden_keys(table, disabled)
    return {key: value for key, value in reply.items() if key.lower() not in hidden}
