"""Domain and user profiles a global admin can withhold from normal admins. Pure.

A domain's `accountSetting` lists the disabled ones (`disabledDomainProfile:<name>`,
`disabledUserProfile:<name>`). The API document: normal admins "cannot view and update
disabled profiles". Each row names what a profile covers: the parameters of PUT (and POST)
it governs, the keys of the GET reply it shows, and whether the policy endpoint of the same
name (`/api/spampolicy`, `/api/throttle`, `/api/greylisting`, `/api/wblist`) belongs to it.
"""

from dataclasses import dataclass

from ..errors import PermissionDenied


@dataclass(frozen=True)
class Profile:
    name: str
    params: tuple = ()   # request parameters it governs
    shown: tuple = ()    # reply keys (attributes, or added keys such as `catchall`)


# The policy endpoints, each a profile of the same name at domain and at user level.
ENDPOINT_PROFILES = ("throttle", "greylisting", "wblist", "spampolicy")

DOMAIN_PROFILES = (
    Profile("bcc", ("senderBcc", "recipientBcc"),
            ("domainSenderBccAddress", "domainRecipientBccAddress")),
    Profile("relay", ("transport", "outboundRelay"), ("mtaTransport", "senderRelayHost")),
    Profile("catchall", ("catchall",), ("catchall",)),
    Profile("aliases", ("aliasDomains", "addAliasDomain", "removeAliasDomain"),
            ("domainAliasName",)),
    *(Profile(name) for name in ENDPOINT_PROFILES),
    Profile("backupmx", ("is_backupmx", "primarymx"), ("domainBackupMX",)),
    Profile("password_policies", ("minPasswordLength", "maxPasswordLength")),
    # iRedAdmin's "advanced" tab: the default language of new users (and a time zone).
    Profile("advanced", ("language",), ("preferredLanguage",)),
)

USER_PROFILES = (
    Profile("bcc", ("senderBcc", "recipientBcc"),
            ("userSenderBccAddress", "userRecipientBccAddress")),
    Profile("forwarding", ("forwarding", "addForwarding", "removeForwarding"),
            ("mailForwardingAddress",)),
    Profile("relay", ("transport",), ("mtaTransport", "senderRelayHost")),
    Profile("aliases", ("aliases", "addAlias", "removeAlias"), ("shadowAddress",)),
    *(Profile(name) for name in ENDPOINT_PROFILES),
)

DOMAIN_PROFILE_NAMES = tuple(profile.name for profile in DOMAIN_PROFILES)
USER_PROFILE_NAMES = tuple(profile.name for profile in USER_PROFILES)

# The accountSetting keys that list the disabled profiles of each table.
DOMAIN_SETTING = "disabledDomainProfile"
USER_SETTING = "disabledUserProfile"


def refuse_disabled(table, disabled, params, what):
    """PERMISSION_DENIED when `params` name a parameter of a profile in `disabled`."""
    for profile in table:
        if profile.name in disabled:
            given = [p for p in profile.params if p in params]
            if given:
                raise PermissionDenied(detail=f"the {what} profile {profile.name} is "
                                              f"disabled ({', '.join(given)})")


def refuse_disabled_endpoint(name, disabled, what):
    """PERMISSION_DENIED when the endpoint's profile `name` is in `disabled`."""
    if name in disabled:
        raise PermissionDenied(detail=f"the {what} profile {name} is disabled")


def hide_disabled(table, disabled, reply):
    """`reply` without the keys of the profiles in `disabled`."""
    hidden = {key.lower() for profile in table if profile.name in disabled
              for key in profile.shown}
    return {key: value for key, value in reply.items() if key.lower() not in hidden}
