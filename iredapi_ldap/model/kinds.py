"""One table per account kind: API parameter, LDAP attribute or accountSetting key, codec.

(The Mail users and Aliases issues add their kinds here.)
"""

from .fields import (
    STATUS,
    Choice,
    Field,
    Integer,
    Language,
    MegabytesSetting,
    Pattern,
    RelayHost,
    Text,
    TextList,
    Transport,
)

MAX_MB = 2**30  # 1 PB in MB: far beyond any mailbox, small enough for every column

# accountSetting limits use -1 for "none may be created" and 0 for "unlimited".
_LIMIT = Integer(0, 2**31 - 1, allow_minus_one=True)
_MEGABYTES = Integer(0, MAX_MB)
_PASSWORD_LENGTH = Integer(0, 1024)

DOMAIN_FIELDS = (
    Field("name", "cn", Text(255)),
    Field("language", "preferredLanguage", Language()),
    Field("transport", "mtaTransport", Transport()),
    Field("quota", "accountSetting", MegabytesSetting(MAX_MB), setting="domainQuota",
          global_only=True),
    Field("defaultQuota", "accountSetting", _MEGABYTES, setting="defaultQuota"),
    Field("maxUserQuota", "accountSetting", _MEGABYTES, setting="maxUserQuota",
          global_only=True),
    Field("minPasswordLength", "accountSetting", _PASSWORD_LENGTH,
          setting="minPasswordLength"),
    Field("maxPasswordLength", "accountSetting", _PASSWORD_LENGTH,
          setting="maxPasswordLength"),
    Field("numberOfUsers", "accountSetting", _LIMIT, setting="numberOfUsers",
          global_only=True),
    Field("numberOfAliases", "accountSetting", _LIMIT, setting="numberOfAliases",
          global_only=True),
    Field("numberOfLists", "accountSetting", _LIMIT, setting="numberOfLists",
          global_only=True),
    Field("outboundRelay", "senderRelayHost", RelayHost(), on_create=False),
)

# Domain services, profiles and self-service preferences (API document, PUT /api/domain).
DOMAIN_SERVICES = ("mail", "domainalias", "senderbcc", "recipientbcc", "self-service")
USER_PREFERENCES = ("personal_info", "forwarding", "wblist", "quarantine", "rcvd_mails",
                    "spampolicy")

# Standalone admins (`mailAdmin` under LDAP_ADMIN_BASEDN). The per-admin creation limits are
# accountSetting values; `maxQuota`/`quotaUnit`, `password`, `isGlobalAdmin` and the two
# privilege switches are rules in services/admins.py.
ADMIN_FIELDS = (
    Field("name", "cn", Text(255)),
    Field("accountStatus", "accountStatus", STATUS),
    Field("language", "preferredLanguage", Language()),
    Field("maxUsers", "accountSetting", Integer(0), setting="create_max_users"),
    Field("maxAliases", "accountSetting", Integer(0), setting="create_max_aliases"),
    Field("maxLists", "accountSetting", Integer(0), setting="create_max_lists"),
)
# Settings that only mean something for a normal admin; isGlobalAdmin=yes discards them.
ADMIN_LIMIT_SETTINGS = ("create_new_domains", "create_max_domains", "create_max_quota",
                        "create_quota_unit", "create_max_users", "create_max_aliases",
                        "create_max_lists")
# API switch -> disabledService value that withholds the privilege (facts file, 3.6).
ADMIN_PRIVILEGES = {"disableViewingMailLog": "view_mail_log",
                    "disableManagingQuarantinedMails": "manage_quarantined_mails"}

# Mail users (`mailUser` in ou=Users). `quota`, `password`/`password_hash`, forwarding,
# per-user aliases, BCC, services and `isGlobalAdmin` are rules in services/users.py.
USER_FIELDS = (
    Field("name", "cn", Text(255, allow_empty=False)),  # inetOrgPerson must have a cn
    Field("gn", "givenName", Text(255), on_create=False),
    Field("sn", "sn", Text(255, allow_empty=False), on_create=False),
    Field("language", "preferredLanguage", Language()),
    Field("accountStatus", "accountStatus", STATUS, on_create=False),
    Field("employeeid", "employeeNumber", Text(255)),
    Field("transport", "mtaTransport", Transport()),
    Field("mailboxFormat", "mailboxFormat", Choice(tuple(
        (name, name) for name in ("maildir", "mdbox", "sdbox")))),
    Field("mailboxFolder", "mailboxFolder", Pattern(r"[A-Za-z0-9._-]{1,50}", "a folder name")),
    Field("telephoneNumber", "telephoneNumber", TextList(64), on_create=False),
    Field("mobile", "mobile", TextList(64), on_create=False),
)
# iRedAdmin's USER_SERVICES_OF_NORMAL_USER + ADDITIONAL_ENABLED_USER_SERVICES (facts, 3.2).
DEFAULT_USER_SERVICES = (
    "internal", "doveadm", "lib-storage", "indexer-worker", "dsync", "quota-status", "mail",
    "smtp", "smtpsecured", "smtptls", "pop3", "pop3secured", "pop3tls", "imap", "imapsecured",
    "imaptls", "managesieve", "managesievesecured", "managesievetls", "sieve", "sievesecured",
    "sievetls", "deliver", "lda", "lmtp", "recipientbcc", "senderbcc", "forward",
    "shadowaddress", "displayedInGlobalAddressBook", "sogo", "sogowebmail", "sogocalendar",
    "sogoactivesync")

# Who may send to a list or alias (iRedAPD's access policies; facts file, 3.5).
ACCESS_POLICIES = ("public", "domain", "subdomain", "membersonly", "moderatorsonly",
                   "membersandmoderatorsonly")
_ACCESS_POLICY = Choice(tuple((name, name) for name in ACCESS_POLICIES))

# Mail aliases (`mailAlias` in ou=Aliases); members are a rule in services/groups.py.
ALIAS_FIELDS = (
    Field("name", "cn", Text(255)),
    Field("accountStatus", "accountStatus", STATUS, on_create=False),
    Field("accessPolicy", "accessPolicy", _ACCESS_POLICY),
)
# Mailing lists (`mailList` in ou=Groups); members are a rule in services/groups.py.
LIST_FIELDS = (
    Field("name", "cn", Text(255)),
    Field("accessPolicy", "accessPolicy", _ACCESS_POLICY),
)
