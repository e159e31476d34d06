"""How an entry appears in a GET reply (DESIGN.md section 3): attributes keyed by their LDAP
names; scalars for single-valued attributes, integers as numbers, lists for the rest;
`accountSetting` as a dict; `userPassword` only where the operator exposes it
(API_HIDDEN_USER_PROFILES, API_HIDDEN_ADMIN_PROFILES: services/hidden.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..numbers import parse_whole

if TYPE_CHECKING:
    from ..directory.base import Entry

_Value = TypeVar("_Value")

# iRedMail attributes marked SINGLE-VALUE in its schema (tests/unit/test_render.py checks
# this against devslapd/schema/), plus core attributes that are single-valued in their own
# schemas or that iRedMail always writes once.
SINGLE_VALUED = frozenset(name.lower() for name in (
    "domainName", "mtaTransport", "domainStatus", "domainGlobalAdmin", "domainBackupMX",
    "domainSenderBccAddress", "domainRecipientBccAddress", "domainMaxQuotaSize",
    "domainCurrentQuotaSize", "domainMaxUserNumber", "domainCurrentUserNumber",
    "domainMaxAliasNumber", "domainCurrentAliasNumber", "domainMaxListNumber",
    "domainCurrentListNumber", "disclaimer", "domainDefaultUserQuota", "mailUID", "mailGID",
    "storageBaseDirectory", "mailMessageStore", "mailQuota", "mailQuotaMessageLimit",
    "mailHost", "accountStatus", "userRecipientBccAddress", "userSenderBccAddress",
    "backupMailAddress", "expiredDate", "allowNets", "senderRelayHost", "maxMessageSize",
    "mailboxFormat", "mailboxFolder", "recoveryEmail", "birthday", "accessPolicy", "hasMember",
    # core, cosine, inetorgperson, nis
    "mail", "cn", "sn", "givenName", "uid", "employeeNumber", "title", "preferredLanguage",
    "homeDirectory", "shadowLastChange", "uidNumber", "gidNumber", "displayName",
    "amavisLocal",
))
# INTEGER-syntax attributes (iRedMail's schema and nis).
INTEGERS = frozenset(name.lower() for name in (
    "domainMaxQuotaSize", "domainMaxUserNumber", "domainCurrentUserNumber",
    "domainMaxAliasNumber", "domainCurrentAliasNumber", "domainMaxListNumber",
    "domainCurrentListNumber", "domainDefaultUserQuota", "mailUID", "mailGID", "mailQuota",
    "mailQuotaMessageLimit", "maxMessageSize", "shadowLastChange", "uidNumber", "gidNumber",
))
# Attributes whose values are numbers although their schema stores text: iRedMail's
# `domainCurrentQuotaSize` is an IA5 string (not INTEGER like the other domainCurrent*
# counters) that only ever holds a number of bytes.
NUMBERS_IN_TEXT = frozenset({"domaincurrentquotasize"})
# What a reply shows as numbers.
NUMBERS = INTEGERS | NUMBERS_IN_TEXT
HIDDEN = frozenset({"userpassword"})
# accountSetting keys stored as one value per item (facts file, section 3.1).
LIST_SETTINGS = frozenset(name.lower() for name in (
    "disabledDomainProfile", "disabledUserProfile", "disabledUserPreference",
    "disabledMailService",
))


def render_entry(entry: Entry, hidden: Collection[str] = HIDDEN) -> dict[str, object]:
    """The reply dict of a directory entry, without the attributes `hidden` names (lower
    case; by default the password hash: `()` for an entry its service has already left
    out what the operator hides)."""
    out: dict[str, object] = {}
    for name, values in entry.attrs.items():
        key = name.lower()
        if key in hidden:
            continue
        if key == "accountsetting":
            out[name] = parse_account_settings(values)
            continue
        values = [_number(v) if key in NUMBERS else v for v in values]
        out[name] = values[0] if key in SINGLE_VALUED and len(values) == 1 else values
    return out


def parse_account_settings(values: Iterable[object]) -> dict[str, str | int | list[str]]:
    """`accountSetting` values (`key:value`) as a dict: numbers as ints, list keys as lists."""
    settings: dict[str, Any] = {}  # Any lets a list key's list grow
    for raw in values:
        key, sep, value = str(raw).partition(":")
        if not sep:
            continue
        if key.lower() in LIST_SETTINGS:
            settings.setdefault(key, []).append(value)
        else:
            settings[key] = _number(value)
    return settings


def _number(value: _Value) -> _Value | int:
    number = parse_whole(str(value))
    return value if number is None else number
