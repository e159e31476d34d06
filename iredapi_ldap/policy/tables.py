"""The SQL tables the policy daemons read, as iRedMail defines them.

Sources: iRedMail samples/amavisd/amavisd.mysql (with iRedMail's own change: `policy_name`
VARCHAR(255) NOT NULL DEFAULT '' with a UNIQUE index), iRedAPD SQL/iredapd.mysql (with the
`max_rcpts` column of iRedAPD 5.0), iRedAdmin SQL/iredadmin.mysql. Only the tables the API
reads or writes are defined here, plus those the same daemons join them with.
"""

from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TIMESTAMP, TypeDecorator, TypeEngine


class Address(TypeDecorator[str]):
    """An address column: VARBINARY(255) on MySQL/MariaDB, as Amavisd declares it (it compares
    addresses byte-wise), text elsewhere; Python code sees `str` either way."""

    impl = String(255)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.VARBINARY(255))
        return dialect.type_descriptor(String(255))

    def process_bind_param(self, value: Optional[str], dialect: Dialect) -> Any:
        if value is not None and dialect.name in ("mysql", "mariadb"):
            return value.encode("utf-8")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Optional[str]:
        return value.decode("utf-8") if isinstance(value, bytes) else value


_ADDRESS = Address()
_ID = BigInteger().with_variant(mysql.BIGINT(unsigned=True), "mysql", "mariadb") \
    .with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY
_YN = String(1)

amavisd = MetaData()

users = Table(
    "users", amavisd,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("priority", Integer, nullable=False, server_default="7"),
    Column("policy_id", Integer, nullable=False, server_default="1"),
    Column("email", _ADDRESS, nullable=False, unique=True),
    Column("fullname", String(255)),
)

mailaddr = Table(
    "mailaddr", amavisd,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("priority", Integer, nullable=False, server_default="7"),
    Column("email", _ADDRESS, nullable=False, unique=True),
)

wblist = Table(
    "wblist", amavisd,
    Column("rid", Integer, primary_key=True, autoincrement=False),
    Column("sid", Integer, primary_key=True, autoincrement=False),
    Column("wb", String(10), nullable=False),
)

outbound_wblist = Table(
    "outbound_wblist", amavisd,
    Column("rid", Integer, primary_key=True, autoincrement=False),
    Column("sid", Integer, primary_key=True, autoincrement=False),
    Column("wb", String(10), nullable=False),
)

policy = Table(
    "policy", amavisd,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("policy_name", String(255), nullable=False, server_default=""),
    *(Column(name, _YN) for name in (
        "virus_lover", "spam_lover", "unchecked_lover", "banned_files_lover",
        "bad_header_lover", "bypass_virus_checks", "bypass_spam_checks",
        "bypass_banned_checks", "bypass_header_checks")),
    *(Column(name, String(64)) for name in (
        "virus_quarantine_to", "spam_quarantine_to", "banned_quarantine_to",
        "unchecked_quarantine_to", "bad_header_quarantine_to", "clean_quarantine_to",
        "archive_quarantine_to")),
    *(Column(name, Float) for name in (
        "spam_tag_level", "spam_tag2_level", "spam_tag3_level", "spam_kill_level",
        "spam_dsn_cutoff_level", "spam_quarantine_cutoff_level")),
    *(Column(name, String(64)) for name in (
        "addr_extension_virus", "addr_extension_spam", "addr_extension_banned",
        "addr_extension_bad_header")),
    *(Column(name, _YN) for name in ("warnvirusrecip", "warnbannedrecip", "warnbadhrecip")),
    *(Column(name, String(64)) for name in (
        "newvirus_admin", "virus_admin", "banned_admin", "bad_header_admin", "spam_admin",
        "spam_subject_tag", "spam_subject_tag2", "spam_subject_tag3")),
    Column("message_size_limit", Integer),
    *(Column(name, String(64)) for name in (
        "banned_rulenames", "disclaimer_options", "forward_method", "sa_userconf",
        "sa_username")),
    Index("policy_idx_policy_name", "policy_name", unique=True),
)

iredapd = MetaData()

throttle = Table(
    "throttle", iredapd,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("account", String(255), nullable=False),
    Column("kind", String(10), nullable=False, server_default="outbound"),
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    Column("period", Integer, nullable=False, server_default="0"),
    Column("msg_size", BigInteger, nullable=False, server_default="-1"),
    Column("max_msgs", BigInteger, nullable=False, server_default="-1"),
    Column("max_quota", BigInteger, nullable=False, server_default="-1"),
    Column("max_rcpts", BigInteger, nullable=False, server_default="-1"),
    UniqueConstraint("account", "kind", name="account_kind"),
)

throttle_tracking = Table(
    "throttle_tracking", iredapd,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("tid", BigInteger, nullable=False, server_default="0"),
    Column("account", String(255), nullable=False, server_default=""),
    Column("period", Integer, nullable=False, server_default="0"),
    Column("cur_msgs", Integer, nullable=False, server_default="0"),
    Column("cur_quota", Integer, nullable=False, server_default="0"),
    Column("cur_rcpts", BigInteger, nullable=False, server_default="0"),
    Column("init_time", Integer, nullable=False, server_default="0"),
    Column("last_time", Integer, nullable=False, server_default="0"),
    Column("last_notify_time", Integer, nullable=False, server_default="0"),
    UniqueConstraint("tid", "account", name="tid_account"),
)

greylisting = Table(
    "greylisting", iredapd,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("account", String(255), nullable=False, server_default=""),
    Column("priority", SmallInteger, nullable=False, server_default="0"),
    Column("sender", String(255), nullable=False, server_default=""),
    Column("sender_priority", SmallInteger, nullable=False, server_default="0"),
    Column("comment", String(255), nullable=False, server_default=""),
    Column("active", SmallInteger, nullable=False, server_default="1"),
    UniqueConstraint("account", "sender"),
    Index("greylisting_comment", "comment"),
)

greylisting_whitelists = Table(
    "greylisting_whitelists", iredapd,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("account", String(255), nullable=False, server_default=""),
    Column("sender", String(255), nullable=False, server_default=""),
    Column("comment", String(255), nullable=False, server_default=""),
    UniqueConstraint("account", "sender"),
    Index("greylisting_whitelists_comment", "comment"),
)

greylisting_whitelist_domains = Table(
    "greylisting_whitelist_domains", iredapd,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("domain", String(255), nullable=False, server_default="", unique=True),
)

greylisting_whitelist_domain_spf = Table(
    "greylisting_whitelist_domain_spf", iredapd,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("account", String(255), nullable=False, server_default=""),
    Column("sender", String(255), nullable=False, server_default=""),
    Column("comment", String(255), nullable=False, server_default=""),
    UniqueConstraint("account", "sender"),
    Index("greylisting_whitelist_domain_spf_comment", "comment"),
)

iredadmin = MetaData()

deleted_mailboxes = Table(
    "deleted_mailboxes", iredadmin,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("timestamp", TIMESTAMP, nullable=False, server_default=func.current_timestamp()),
    Column("username", String(255), nullable=False, server_default=""),
    Column("domain", String(255), nullable=False, server_default=""),
    Column("maildir", String(255), nullable=False, server_default=""),
    Column("admin", String(255), nullable=False, server_default=""),
    Column("delete_date", Date),
    *(Index(f"deleted_mailboxes_{name}", name)
      for name in ("timestamp", "username", "domain", "admin", "delete_date")),
)

# iRedAdmin's admin log: every admin action, failed logins among them (event 'login',
# loglevel 'error'), with the time in UTC as iRedAdmin writes it.
log = Table(
    "log", iredadmin,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("timestamp", TIMESTAMP, nullable=False, server_default=func.current_timestamp()),
    Column("admin", String(255), nullable=False),
    Column("ip", String(40), nullable=False),
    Column("domain", String(255), nullable=False, server_default=""),
    Column("username", String(255), nullable=False, server_default=""),
    Column("event", String(20), nullable=False, server_default=""),
    Column("loglevel", String(10), nullable=False, server_default="info"),
    Column("msg", Text),
    *(Index(f"log_{name}", name)
      for name in ("timestamp", "admin", "ip", "domain", "username", "event", "loglevel")),
)

# iRedAdmin's key-value store; the API keeps its unfinished writes and ended sessions here,
# under keys of its own (`iredapi-ldap:...`).
tracking = Table(
    "tracking", iredadmin,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("k", String(255), nullable=False, unique=True),
    Column("v", Text),
    Column("time", TIMESTAMP, nullable=False, server_default=func.current_timestamp()),
)

# What Dovecot records of each mailbox, in iRedAdmin's database on an OpenLDAP server
# (iRedMail samples/dovecot/sql/used_quota.mysql and last_login.mysql, created by the
# installer's dovecot_initialize_db_for_ldap): the quota_clone plugin keeps `used_quota`, the
# last_login plugin the time (epoch seconds) of each protocol's last login. The API reads
# them, and drops or moves an account's rows with the account (policy/usage.py); they are
# defined here so that the embedded databases have them too.
used_quota = Table(
    "used_quota", iredadmin,
    Column("username", String(255), primary_key=True),
    Column("bytes", BigInteger, nullable=False, server_default="0"),
    Column("messages", BigInteger, nullable=False, server_default="0"),
    Column("domain", String(255), nullable=False, server_default=""),
    Index("used_quota_domain", "domain"),
)

last_login = Table(
    "last_login", iredadmin,
    Column("username", String(255), primary_key=True, server_default=""),
    Column("domain", String(255), nullable=False, server_default=""),
    *(Column(protocol, Integer) for protocol in ("imap", "pop3", "lda")),
    *(Index(f"last_login_{name}", name) for name in ("domain", "imap", "pop3", "lda")),
)

# Database name (as in the *_DB_URL settings) -> its tables.
DATABASES = {"amavisd": amavisd, "iredapd": iredapd, "iredadmin": iredadmin}
