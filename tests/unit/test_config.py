import subprocess
import sys

import pytest

from iredapi_ldap.config import ConfigError, ensure_secret_key, known_keys, load_settings

REQUIRED = {"IREDAPI_LDAP_BIND_PASSWORD": "secret"}


def write(tmp_path, text):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    return str(path)


def test_defaults_follow_design():
    s = load_settings(environ=REQUIRED)
    assert s.enable_restful_api is False
    assert s.ldap_uri == ("ldap://127.0.0.1:389",)
    assert s.ldap_bind_dn == "cn=vmailadmin,dc=example,dc=com"
    assert s.default_password_scheme == "SSHA512"
    assert (s.session_timeout, s.min_passwd_length, s.max_passwd_length) == (1800, 8, 0)
    assert s.password_has_special_char is True
    assert s.sql_url("amavisd").startswith("sqlite:///") and s.sql_url("amavisd").endswith(
        "/var/amavisd.sqlite")


def test_hidden_profiles_default_to_the_password_hash_and_clear(tmp_path):
    """iRedAdmin's defaults hide the hash (SQL column and LDAP attribute names); `[]` in
    YAML, or an empty env value, exposes it."""
    s = load_settings(environ=REQUIRED)
    assert s.api_hidden_user_profiles == s.api_hidden_admin_profiles == (
        "password", "userPassword")
    path = write(tmp_path, "LDAP_BIND_PASSWORD: x\nAPI_HIDDEN_USER_PROFILES: []\n"
                           "API_HIDDEN_ADMIN_PROFILES: [userPassword, mobile]\n")
    s = load_settings(path, environ={})
    assert s.api_hidden_user_profiles == ()
    assert s.api_hidden_admin_profiles == ("userPassword", "mobile")
    s = load_settings(environ={**REQUIRED, "IREDAPI_API_HIDDEN_ADMIN_PROFILES": ""})
    assert s.api_hidden_admin_profiles == ()
    s = load_settings(environ={**REQUIRED, "IREDAPI_API_HIDDEN_USER_PROFILES": "mobile, sn"})
    assert s.api_hidden_user_profiles == ("mobile", "sn")


def test_yaml_values_and_env_overrides(tmp_path):
    path = write(tmp_path, "ENABLE_RESTFUL_API: true\nSESSION_TIMEOUT: 60\n"
                           "LDAP_URI: [ldap://a.example:389, ldaps://b.example]\n"
                           "RESTFUL_API_CLIENTS: [192.0.2.1, 10.0.0.0/8, 2001:db8::/32]\n"
                           "LDAP_BIND_PASSWORD: from-file\n")
    s = load_settings(path, environ={"IREDAPI_SESSION_TIMEOUT": "120",
                                     "IREDAPI_API_ALWAYS_HTTP_200": "yes"})
    assert s.enable_restful_api is True
    assert s.session_timeout == 120          # env wins over the file
    assert s.api_always_http_200 is True
    assert s.ldap_uri == ("ldap://a.example:389", "ldaps://b.example")
    assert s.restful_api_clients == ("192.0.2.1", "10.0.0.0/8", "2001:db8::/32")
    assert s.ldap_bind_password == "from-file"


def test_config_file_from_env_and_list_from_comma_string(tmp_path):
    path = write(tmp_path, "LDAP_BIND_PASSWORD: x\n")
    s = load_settings(environ={"IREDAPI_CONFIG": path,
                               "IREDAPI_LDAP_URI": "ldap://a.example, ldap://b.example"})
    assert s.ldap_uri == ("ldap://a.example", "ldap://b.example")


@pytest.mark.parametrize("text, message", [
    ("NO_SUCH_KEY: 1\n", "NO_SUCH_KEY: unknown setting"),
    ("session_timeout: 5\n", "session_timeout: unknown setting"),
    ("SESSION_TIMEOUT: soon\n", "SESSION_TIMEOUT: expected an integer"),
    ("SESSION_TIMEOUT: true\n", "SESSION_TIMEOUT: expected an integer"),
    ("SESSION_TIMEOUT: 0\n", "SESSION_TIMEOUT: must be greater than 0"),
    ("LDAP_BIND_TIMEOUT: 0\n", "LDAP_BIND_TIMEOUT: must be greater than 0"),
    ("LDAP_FAILBACK_INTERVAL: 0\n", "LDAP_FAILBACK_INTERVAL: must be greater than 0"),
    ("ENABLE_RESTFUL_API: maybe\n", "ENABLE_RESTFUL_API: expected true or false"),
    ("LDAP_URI: http://example.com\n", "LDAP_URI: 'http://example.com' is not an ldap://"),
    ("LDAP_URI: 'ldap://host:99999'\n", "LDAP_URI: malformed URI"),
    ("RESTFUL_API_CLIENTS: [300.1.1.1]\n", "RESTFUL_API_CLIENTS: '300.1.1.1' is not"),
    ("RESTFUL_API_CLIENTS: {a: 1}\n", "RESTFUL_API_CLIENTS: expected a list"),
    ("DEFAULT_PASSWORD_SCHEME: MD5\n", "DEFAULT_PASSWORD_SCHEME: one of"),
    ("LDAP_CLIENT: openldap\n", "LDAP_CLIENT: one of ldap3, python-ldap"),
    ("STORAGE_BASE_DIRECTORY: var/vmail\n", "STORAGE_BASE_DIRECTORY: must be an absolute"),
    ("MIN_PASSWD_LENGTH: 10\nMAX_PASSWD_LENGTH: 5\n", "MAX_PASSWD_LENGTH: smaller"),
    ("API_HIDDEN_USER_PROFILES: ['user password']\n",
     "API_HIDDEN_USER_PROFILES: 'user password' is not an attribute name"),
    ("API_HIDDEN_ADMIN_PROFILES: [1]\n", "API_HIDDEN_ADMIN_PROFILES: expected a list of"),
    ("- a\n- b\n", "must be a mapping"),
    ("KEY: [unclosed\n", "not valid YAML (line"),
])
def test_bad_files_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ=REQUIRED)
    assert message in str(caught.value)


def test_bad_env_values_name_the_key():
    with pytest.raises(ConfigError, match="^LDAP_TIMEOUT: expected an integer"):
        load_settings(environ={**REQUIRED, "IREDAPI_LDAP_TIMEOUT": "1.5"})
    with pytest.raises(ConfigError, match="^TYPO_KEY: unknown setting"):
        load_settings(environ={**REQUIRED, "IREDAPI_TYPO_KEY": "1"})


def test_missing_required_value():
    with pytest.raises(ConfigError, match="^LDAP_BIND_PASSWORD: required"):
        load_settings(environ={})


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(str(tmp_path / "absent.yaml"), environ=REQUIRED)


def test_known_keys_cover_design_table():
    for key in ("ENABLE_RESTFUL_API", "RESTRICT_API_ACCESS", "RESTFUL_API_CLIENTS", "LDAP_URI",
                "LDAP_BASEDN", "LDAP_ADMIN_BASEDN", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD",
                "DEFAULT_PASSWORD_SCHEME", "STORAGE_BASE_DIRECTORY", "DEFAULT_MTA_TRANSPORT",
                "SESSION_TIMEOUT", "SECRET_KEY", "MIN_PASSWD_LENGTH", "MAX_PASSWD_LENGTH",
                "PASSWORD_HAS_LETTER", "PASSWORD_HAS_UPPERCASE", "PASSWORD_HAS_NUMBER",
                "PASSWORD_HAS_SPECIAL_CHAR", "API_ALWAYS_HTTP_200", "AMAVISD_DB_URL",
                "IREDAPD_DB_URL", "IREDADMIN_DB_URL", "DATA_DIR", "API_HIDDEN_USER_PROFILES",
                "API_HIDDEN_ADMIN_PROFILES"):
        assert key in known_keys()


def test_secret_key_generated_once_and_private(tmp_path):
    s = load_settings(environ={**REQUIRED, "IREDAPI_DATA_DIR": str(tmp_path / "data")})
    first = ensure_secret_key(s)
    assert ensure_secret_key(s) == first and len(first) >= 32
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    configured = s.replace(secret_key="k" * 20)
    assert ensure_secret_key(configured) == "k" * 20


def test_command_line_reports_config_error_in_one_line(tmp_path):
    path = write(tmp_path, "SESSION_TIMEOUT: soon\nLDAP_BIND_PASSWORD: x\n")
    run = subprocess.run([sys.executable, "-m", "iredapi_ldap", "serve", "--config", path],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "iredapi-ldap: configuration error: SESSION_TIMEOUT: expected an integer, got 'soon'"]
    assert "Traceback" not in run.stderr + run.stdout


def test_several_providers_warn_of_a_generated_key_and_sqlite_files():
    from iredapi_ldap.config import several_hosts_warnings
    two = ["ldap://a", "ldap://b"]
    one = load_settings(environ={**REQUIRED})
    assert several_hosts_warnings(one) == []
    plain = load_settings(environ=REQUIRED, ldap_uri=tuple(two))
    assert several_hosts_warnings(plain) == [
        "LDAP_URI lists 2 servers but SECRET_KEY is not set: the key generated in DATA_DIR "
        "is this host's own, and other hosts will not accept its sessions; give every host "
        "the same SECRET_KEY",
        "LDAP_URI lists 2 servers but AMAVISD_DB_URL, IREDAPD_DB_URL, IREDADMIN_DB_URL are "
        "SQLite files of this host: several hosts need shared MariaDB or PostgreSQL "
        "databases"]
    shared = plain.replace(secret_key="k" * 32,
                           amavisd_db_url="mysql+pymysql://u:p@db/amavisd",
                           iredapd_db_url="postgresql+psycopg://u:p@db/iredapd",
                           iredadmin_db_url="sqlite:////var/lib/x.sqlite")
    assert several_hosts_warnings(shared) == [
        "LDAP_URI lists 2 servers but IREDADMIN_DB_URL is a SQLite file of this host: "
        "several hosts need shared MariaDB or PostgreSQL databases"]
    assert several_hosts_warnings(shared.replace(iredadmin_db_url="mysql+pymysql://db/x")) == []
