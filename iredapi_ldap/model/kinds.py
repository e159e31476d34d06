"""The kinds of account, each one `Kind`: where its entries live, what counts and limits
them, and its API parameters, one row each (facts file, sections 1 and 3). Pure.

A new account field is one row here (and one round-trip test). A row says the parameter's
API name and legacy names, its LDAP attribute or accountSetting key, its codec (type and
bounds), who may give it, and the rule or effect it triggers.
"""

from .admin_rules import AdminPassword, GlobalAdminHasNoLimits, MaxDomains, MaxQuota, Privilege
from .fields import (
    STATUS,
    YES_NO,
    Choice,
    Email,
    Integer,
    Language,
    Megabytes,
    MegabytesSetting,
    Pattern,
    RelayHost,
    Text,
    TextList,
    Transport,
)
from .params import Effect, Kind, Param, Who, params_of
from .profiles import DOMAIN_PROFILE_NAMES, USER_PROFILE_NAMES
from .rules import (
    DOMAIN_SERVICES,
    USER_PREFERENCES,
    AliasDomains,
    BackupMx,
    Bcc,
    Profiles,
    Services,
)
from .sets import SetParam
from .user_rules import Aliases, Forwarding, Maildir, Password, QuotaWithinDomain

MAX_MB = 2**30  # 1 PB in MB: far beyond any mailbox, small enough for every column

# accountSetting limits use -1 for "none may be created" and 0 for "unlimited".
_LIMIT = Integer(0, 2**31 - 1, allow_minus_one=True)
_MEGABYTES = Integer(0, MAX_MB)
_PASSWORD_LENGTH = Integer(0, 1024)
_NAME = ("name", "cn", Text(255))
_LANGUAGE = Param("language", "preferredLanguage", Language(), legacy=("preferredLanguage",))
_EVERY = Who.OVER_EVERY_ACCOUNT


def _limit(param: str, setting: str) -> Param:
    return Param(param, "accountSetting", _LIMIT, setting=setting, who=Who.GLOBAL)


def _bcc(prefix: str, who: Who = Who.ADMIN, on_create: bool = True) -> tuple[Param, ...]:
    return tuple(Param(param, rule=Bcc(param, attribute, service), who=who,
                       on_create=on_create)
                 for param, attribute, service in (
                     ("senderBcc", f"{prefix}SenderBccAddress", "senderbcc"),
                     ("recipientBcc", f"{prefix}RecipientBccAddress", "recipientbcc")))


# -- domains (`mailDomain` entries below LDAP_BASEDN) --------------------------------------

DOMAIN = Kind(
    "domain", "domain", ("mailDomain",), "domainName",
    params=(
        Param(*_NAME, legacy=("cn",)),
        _LANGUAGE,
        Param("transport", "mtaTransport", Transport(), who=_EVERY),
        Param("quota", "accountSetting", MegabytesSetting(MAX_MB), setting="domainQuota",
              who=Who.GLOBAL, legacy=("mailQuota",)),
        Param("defaultQuota", "accountSetting", _MEGABYTES, setting="defaultQuota"),
        Param("maxUserQuota", "accountSetting", _MEGABYTES, setting="maxUserQuota",
              who=Who.GLOBAL),
        Param("minPasswordLength", "accountSetting", _PASSWORD_LENGTH,
              setting="minPasswordLength"),
        Param("maxPasswordLength", "accountSetting", _PASSWORD_LENGTH,
              setting="maxPasswordLength"),
        _limit("numberOfUsers", "numberOfUsers"),
        _limit("numberOfAliases", "numberOfAliases"),
        _limit("numberOfLists", "numberOfLists"),
        Param("outboundRelay", "senderRelayHost", RelayHost(), who=_EVERY, on_create=False),
        Param("accountStatus", "accountStatus", STATUS, who=_EVERY,
              effect=Effect.ACCOUNTS_STATUS, on_create=False),
        *_bcc("domain", who=_EVERY),
        *params_of(Services(DOMAIN_SERVICES), *Services.params, who=_EVERY, on_create=False),
        *params_of(BackupMx(), *BackupMx.params, who=Who.GLOBAL, on_create=False),
        *params_of(Profiles("DomainProfile", "disabledDomainProfile", DOMAIN_PROFILE_NAMES),
                   "disableDomainProfile", "enableDomainProfile", who=Who.GLOBAL, on_create=False),
        *params_of(Profiles("UserProfile", "disabledUserProfile", USER_PROFILE_NAMES),
                   "disableUserProfile", "enableUserProfile", who=Who.GLOBAL, on_create=False),
        *params_of(Profiles("UserPreference", "disabledUserPreference", USER_PREFERENCES),
                   "disableUserPreference", "enableUserPreference", on_create=False),
        Param("catchall", effect=Effect.CATCHALL, on_create=False),
        *params_of(AliasDomains(), *AliasDomains.params,
                   effect=Effect.ALIAS_DOMAIN_ADDRESSES, on_create=False),
    ))

# -- mail users (`mailUser` in ou=Users) ---------------------------------------------------

# iRedAdmin's USER_SERVICES_OF_NORMAL_USER + ADDITIONAL_ENABLED_USER_SERVICES (facts, 3.2).
DEFAULT_USER_SERVICES = (
    "internal", "doveadm", "lib-storage", "indexer-worker", "dsync", "quota-status", "mail",
    "smtp", "smtpsecured", "smtptls", "pop3", "pop3secured", "pop3tls", "imap", "imapsecured",
    "imaptls", "managesieve", "managesievesecured", "managesievetls", "sieve", "sievesecured",
    "sievetls", "deliver", "lda", "lmtp", "recipientbcc", "senderbcc", "forward",
    "shadowaddress", "displayedInGlobalAddressBook", "sogo", "sogowebmail", "sogocalendar",
    "sogoactivesync")

USERS_FILTER = "(&(objectClass=mailUser)(!(mail=@*)))"  # the catch-all (mail=@domain) is none
_PASSWORD = Password()
_FORWARDING = Forwarding()
_ALIASES = Aliases()

USER = Kind(
    "user", "user", ("inetOrgPerson", "mailUser", "shadowAccount", "amavisAccount"), "mail",
    marker="mailUser", search_filter=USERS_FILTER, container="Users",
    counter="domainCurrentUserNumber", domain_limit="numberOfUsers",
    admin_limit="create_max_users", plural="users",
    required_on_create=(("password", "password_hash"),),
    params=(
        Param("name", "cn", Text(255, allow_empty=False), legacy=("cn",)),  # must have a cn
        Param("gn", "givenName", Text(255), on_create=False),
        Param("sn", "sn", Text(255, allow_empty=False), on_create=False),
        _LANGUAGE,
        Param("accountStatus", "accountStatus", STATUS, on_create=False),
        Param("employee_id", "employeeNumber", Text(255), legacy=("employeeid",)),
        Param("transport", "mtaTransport", Transport()),
        Param("mailboxFormat", "mailboxFormat", Choice(tuple(
            (name, name) for name in ("maildir", "mdbox", "sdbox")))),
        Param("mailboxFolder", "mailboxFolder",
              Pattern(r"[A-Za-z0-9._-]{1,50}", "a folder name")),
        Param("telephoneNumber", "telephoneNumber", TextList(64), on_create=False),
        Param("mobile", "mobile", TextList(64), on_create=False),
        Param("isGlobalAdmin", "domainGlobalAdmin", YES_NO, who=Who.GLOBAL, on_create=False),
        Param("password", rule=_PASSWORD),
        Param("password_hash", rule=_PASSWORD),
        Param("forwarding", rule=_FORWARDING),
        Param("addForwarding", rule=_FORWARDING, on_create=False),
        Param("removeForwarding", rule=_FORWARDING, on_create=False),
        Param("aliases", rule=_ALIASES),
        Param("addAlias", rule=_ALIASES, on_create=False),
        Param("removeAlias", rule=_ALIASES, on_create=False),
        *_bcc("user", on_create=False),
        # An admin login is granted through the domain's admins (services/domain_admins.py).
        *params_of(Services(None, global_only=("domainadmin",)), *Services.params, on_create=False),
        Param("quota", "mailQuota", Megabytes(MAX_MB), legacy=("mailQuota",),
              rule=QuotaWithinDomain(), effect=Effect.QUOTA_COUNTED),
        Param("maildir", rule=Maildir()),
    ))

# -- mail aliases (`mailAlias` in ou=Aliases) and mailing lists (`mailList` in ou=Groups) --

# Who may send to a list or alias (iRedAPD's access policies; facts file, 3.5).
ACCESS_POLICIES = ("public", "domain", "subdomain", "membersonly", "moderatorsonly",
                   "membersandmoderatorsonly")
_ACCESS_POLICY = Param("accessPolicy", "accessPolicy",
                       Choice(tuple((name, name) for name in ACCESS_POLICIES)))
# The members: a set of addresses, written by the service (services/groups.py) on the
# members' own entries.
MEMBERS = SetParam("members", "addMember", "removeMember", None, Email(allow_empty=False))
_MEMBERS = tuple(Param(name, effect=Effect.MEMBERS, on_create=name == MEMBERS.whole)
                 for name in MEMBERS.params())

ALIAS = Kind(
    "alias", "alias", ("mailAlias",), "mail",
    container="Aliases", counter="domainCurrentAliasNumber", domain_limit="numberOfAliases",
    admin_limit="create_max_aliases", plural="aliases",
    params=(Param(*_NAME, legacy=("cn",)),
            Param("accountStatus", "accountStatus", STATUS, on_create=False),
            _ACCESS_POLICY, *_MEMBERS))

LIST = Kind(
    "list", "mailing list", ("mailList",), "mail",
    api_name="maillist", container="Groups", counter="domainCurrentListNumber",
    domain_limit="numberOfLists", admin_limit="create_max_lists", plural="mailing lists",
    params=(Param(*_NAME, legacy=("cn",)), _ACCESS_POLICY, *_MEMBERS))

# A list's members hosted nowhere: one entry per list in ou=Externals, RDN memberOfGroup.
EXTERNALS = Kind("externals", "external members", ("mailExternalUser",), "memberOfGroup",
                 container="Externals")

# A domain's catch-all: `mail=@domain` in ou=Users (Postfix catchall_maps).
CATCHALL = Kind("catchall", "catch-all", ("inetOrgPerson", "mailUser"), "mail",
                marker="mailUser", search_filter="(&(objectClass=mailUser)(mail=@*))",
                container="Users")

# -- standalone admins (`mailAdmin` under LDAP_ADMIN_BASEDN) -------------------------------

ADMIN = Kind(
    "admin", "standalone admin", ("mailAdmin",), "mail",
    required_on_create=(("password",),), always=(GlobalAdminHasNoLimits(),),
    params=(
        Param(*_NAME, legacy=("cn",)),
        Param("accountStatus", "accountStatus", STATUS),
        _LANGUAGE,
        Param("maxUsers", "accountSetting", Integer(0), setting="create_max_users"),
        Param("maxAliases", "accountSetting", Integer(0), setting="create_max_aliases"),
        Param("maxLists", "accountSetting", Integer(0), setting="create_max_lists"),
        Param("password", rule=AdminPassword()),
        Param("maxDomains", rule=MaxDomains()),
        *params_of(MaxQuota(), *MaxQuota.params),
        Param("disableViewingMailLog", rule=Privilege("disableViewingMailLog",
                                                      "view_mail_log")),
        Param("disableManagingQuarantinedMails",
              rule=Privilege("disableManagingQuarantinedMails", "manage_quarantined_mails")),
        Param("isGlobalAdmin", "domainGlobalAdmin", YES_NO),
    ))

# The kinds a domain counts and limits, by name (services pass these names around).
COUNTED = {kind.name: kind for kind in (USER, ALIAS, LIST)}
# The containers below every domain entry, as iRedMail's installer makes them.
CONTAINERS = tuple(kind.container for kind in (USER, LIST, ALIAS, EXTERNALS) if kind.container)
# The kinds by the name the API gives them in URLs (`/api/export/maillist/...`).
BY_API_NAME = {kind.api_name: kind for kind in (DOMAIN, CATCHALL, ADMIN, USER, LIST, ALIAS)}


def any_of(*kinds: Kind) -> str:
    """A filter for entries of any of `kinds`, by their markers (the catch-all is a user)."""
    return "(|" + "".join(f"(objectClass={kind.marker})" for kind in kinds) + ")"


# Entries that hold addresses of their own: users (and catch-alls), aliases, lists.
ADDRESSED = any_of(USER, ALIAS, LIST)
