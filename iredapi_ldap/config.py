"""Settings: built-in defaults <- YAML file <- `IREDAPI_<KEY>` environment variables.

Key names are iRedAdmin-Pro's setting names, so operators can carry their values over. Every
setting is validated once, when the settings are loaded; a mistake is a `ConfigError` whose
message names the key, and the command line turns it into one line and exit status 2.
"""

import dataclasses
import ipaddress
import os
import re
import secrets
import typing
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ENV_PREFIX = "IREDAPI_"
CONFIG_ENV = "IREDAPI_CONFIG"  # names the YAML file; not itself a setting
LDAP_SCHEMES = ("ldap", "ldaps", "ldapi")
LDAP_CLIENTS = ("ldap3", "python-ldap")
PASSWORD_SCHEMES = ("SSHA", "SSHA512", "SHA512", "SHA512-CRYPT", "BCRYPT")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting is unknown, of the wrong type, out of range, or missing."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Validated, immutable settings. Field `foo_bar` is configuration key `FOO_BAR`."""

    enable_restful_api: bool = False
    restrict_api_access: bool = False
    restful_api_clients: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    api_always_http_200: bool = False
    # Attributes GET replies leave out of user and standalone-admin profiles (iRedAdmin's
    # default: the password hash, under its SQL column's and its LDAP attribute's name).
    api_hidden_user_profiles: tuple[str, ...] = ("password", "userPassword")
    api_hidden_admin_profiles: tuple[str, ...] = ("password", "userPassword")
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")

    ldap_uri: tuple[str, ...] = ("ldap://127.0.0.1:389",)
    ldap_basedn: str = "o=domains,dc=example,dc=com"
    ldap_admin_basedn: str = "o=domainAdmins,dc=example,dc=com"
    ldap_bind_dn: str = "cn=vmailadmin,dc=example,dc=com"
    ldap_bind_password: typing.Optional[str] = None
    ldap_connect_timeout: int = 5
    ldap_bind_timeout: int = 3
    ldap_failback_interval: int = 10
    ldap_failover_hold: int = 30
    ldap_timeout: int = 60
    ldap_client: str = "python-ldap"
    health_timeout: int = 3

    default_password_scheme: str = "SSHA512"
    storage_base_directory: str = "/var/vmail/vmail1"
    default_mta_transport: str = "dovecot"

    session_timeout: int = 1800
    secret_key: typing.Optional[str] = None
    login_max_failures: int = 10
    login_failure_window: int = 300

    min_passwd_length: int = 8
    max_passwd_length: int = 0
    password_has_letter: bool = True
    password_has_uppercase: bool = True
    password_has_number: bool = True
    password_has_special_char: bool = True

    amavisd_db_url: typing.Optional[str] = None
    iredapd_db_url: typing.Optional[str] = None
    iredadmin_db_url: typing.Optional[str] = None
    data_dir: str = "./var"

    log_format: str = "text"

    def __post_init__(self):
        for check in _CHECKS:
            check(self)

    def replace(self, **changes):
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    def sql_url(self, name):
        """SQLAlchemy URL of database `name` ('amavisd', 'iredapd', 'iredadmin').

        Unset means the embedded default: a SQLite file under DATA_DIR.
        """
        url = getattr(self, f"{name}_db_url")
        if url:
            return url
        return f"sqlite:///{Path(self.data_dir).resolve() / (name + '.sqlite')}"


REQUIRED = ("ldap_bind_password",)


def _field_types():
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def known_keys():
    """Every configuration key, upper-case, as the YAML file and env variables spell it."""
    return sorted(name.upper() for name in _field_types())


def load_settings(path=None, environ=None, **overrides):
    """Settings from the YAML file at `path` (or env IREDAPI_CONFIG) and the environment.

    Args:
        path: YAML file; None reads env IREDAPI_CONFIG, and no file at all is allowed.
        environ: mapping used instead of os.environ (tests).
        overrides: field values applied last (used by `iredapi-ldap dev`).

    Raises:
        ConfigError: naming the key that is wrong.
    """
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV)
    raw = _read_yaml(path) if path else {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and name != CONFIG_ENV:
            raw[name[len(ENV_PREFIX):]] = _EnvText(value)
    values = _convert_all(raw)
    values.update(overrides)
    missing = [name.upper() for name in REQUIRED if values.get(name) is None]
    if missing:
        raise ConfigError(f"{missing[0]}: required, but not set")
    return Settings(**values)


class _EnvText(str):
    """A value that came from an environment variable: text to be parsed by type."""


def _read_yaml(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of KEY: value")
    return {str(key): value for key, value in data.items()}


def _convert_all(raw):
    types = _field_types()
    values = {}
    for key, value in raw.items():
        name = key.lower()
        if key != key.upper() or name not in types:
            raise ConfigError(f"{key}: unknown setting (known: {', '.join(known_keys())})")
        values[name] = _convert(key, value, types[name])
    return values


def _convert(key, value, kind):
    optional = typing.get_origin(kind) is typing.Union
    if optional:
        kind = typing.get_args(kind)[0]
        if value is None or (isinstance(value, _EnvText) and value == ""):
            return None
    converter = _CONVERTERS[typing.get_origin(kind) or kind]
    try:
        return converter(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _to_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, _EnvText) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise ValueError(f"expected true or false, got {value!r}")


_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _to_int(value):
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, _EnvText) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def _to_str(value):
    if isinstance(value, str):
        return str(value)
    raise ValueError(f"expected a string, got {value!r}")


def _to_list(value):
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"expected a list or a comma-separated string, got {value!r}")
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(item.strip() for item in items if item.strip())


_CONVERTERS = {bool: _to_bool, int: _to_int, str: _to_str, tuple: _to_list}


# Checks of values that have the right type but are still wrong. Each raises ConfigError.


def _check_ldap_uris(settings):
    if not settings.ldap_uri:
        raise ConfigError("LDAP_URI: at least one URI is required")
    for uri in settings.ldap_uri:
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ConfigError(f"LDAP_URI: malformed URI {uri!r}") from None
        if parts.scheme not in LDAP_SCHEMES or (parts.scheme != "ldapi" and not parts.hostname):
            raise ConfigError(f"LDAP_URI: {uri!r} is not an ldap://, ldaps:// or ldapi:// URI")


def _check_clients(settings):
    for key in ("restful_api_clients", "trusted_proxies", "metrics_allow"):
        for client in getattr(settings, key):
            try:
                ipaddress.ip_network(client, strict=False)
            except ValueError:
                raise ConfigError(f"{key.upper()}: {client!r} is not an IP address or "
                                  "network") from None


# An LDAP attribute name (RFC 4512 keystring), or a SQL column's (`_`), as iRedAdmin's lists
# name them.
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,127}")


def _check_hidden_profiles(settings):
    for key in ("api_hidden_user_profiles", "api_hidden_admin_profiles"):
        for name in getattr(settings, key):
            if not _ATTRIBUTE_NAME.fullmatch(name):
                raise ConfigError(f"{key.upper()}: {name!r} is not an attribute name")


def _check_numbers(settings):
    positive = ("session_timeout", "ldap_connect_timeout", "ldap_bind_timeout", "ldap_timeout",
                "ldap_failback_interval", "ldap_failover_hold",
                "health_timeout", "login_max_failures", "login_failure_window")
    for name in positive:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name.upper()}: must be greater than 0")
    for name in ("min_passwd_length", "max_passwd_length"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{name.upper()}: must not be negative")
    if settings.max_passwd_length and settings.max_passwd_length < settings.min_passwd_length:
        raise ConfigError("MAX_PASSWD_LENGTH: smaller than MIN_PASSWD_LENGTH")


def _check_choices(settings):
    if settings.ldap_client not in LDAP_CLIENTS:
        raise ConfigError(f"LDAP_CLIENT: one of {', '.join(LDAP_CLIENTS)}")
    if settings.default_password_scheme.upper() not in PASSWORD_SCHEMES:
        raise ConfigError(f"DEFAULT_PASSWORD_SCHEME: one of {', '.join(PASSWORD_SCHEMES)}")
    if not settings.storage_base_directory.startswith("/"):
        raise ConfigError("STORAGE_BASE_DIRECTORY: must be an absolute path")
    if settings.secret_key is not None and len(settings.secret_key) < 16:
        raise ConfigError("SECRET_KEY: must be at least 16 characters")
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT: one of {', '.join(LOG_FORMATS)}")


_CHECKS = (_check_ldap_uris, _check_clients, _check_hidden_profiles, _check_numbers,
           _check_choices)


POLICY_DATABASES = ("amavisd", "iredapd", "iredadmin")


def several_hosts_warnings(settings):
    """What is wrong for several API hosts when LDAP_URI lists several servers (replicating
    providers, each host writing through the first that answers): a SECRET_KEY generated on
    this host (the others do not accept its sessions) and policy databases in SQLite files
    (the hosts would each keep their own). One sentence each; none for one server."""
    if len(settings.ldap_uri) < 2:
        return []
    found = []
    if not settings.secret_key:
        found.append(f"LDAP_URI lists {len(settings.ldap_uri)} servers but SECRET_KEY is not "
                     f"set: the key generated in DATA_DIR is this host's own, and other hosts "
                     f"will not accept its sessions; give every host the same SECRET_KEY")
    local = [f"{name.upper()}_DB_URL" for name in POLICY_DATABASES
             if settings.sql_url(name).startswith("sqlite")]
    if local:
        found.append(f"LDAP_URI lists {len(settings.ldap_uri)} servers but {', '.join(local)} "
                     f"{'is a SQLite file' if len(local) == 1 else 'are SQLite files'} of this "
                     f"host: several hosts need shared MariaDB or PostgreSQL databases")
    return found


def ensure_secret_key(settings):
    """SECRET_KEY, or the one kept in DATA_DIR/secret_key, generated there once (mode 0600).

    Every worker, restart and host that shares DATA_DIR then accepts the same sessions.
    Creation uses O_EXCL, so concurrent first starts agree on one key.
    """
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 16:
            raise ConfigError(f"SECRET_KEY: {path} holds no usable key") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
