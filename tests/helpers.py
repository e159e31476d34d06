"""Builders of directory entries for tests, written as the iRedMail installer writes them."""

import contextlib
import os
import socket
from pathlib import Path
from urllib.parse import urlencode

from iredapi_ldap.devslapd import IRedMailSlapd
from iredapi_ldap.errors import DirectoryUnavailable
from iredapi_ldap.passwords import hash_password  # noqa: F401 (re-exported for tests)
from iredapi_ldap.sessions import COOKIE_NAME

CONTAINERS = ("Users", "Groups", "Aliases", "Externals")
PASSWORD = "Sup3r-Secret!"


def add_domain(directory, layout, name, **attrs):
    directory.add(layout.domain_dn(name), {
        "objectClass": ["mailDomain"], "domainName": [name], "mtaTransport": ["dovecot"],
        "accountStatus": ["active"], "enabledService": ["mail"],
        "accountSetting": ["minPasswordLength:8", "defaultQuota:1024"], **attrs})
    for container in CONTAINERS:
        directory.add(layout.container_dn(name, container),
                      {"objectClass": ["organizationalUnit", "top"], "ou": [container]})


def add_mail_user(directory, layout, mail, password=PASSWORD, stored_password=None, **attrs):
    """A mail user; `stored_password` overrides the `userPassword` value verbatim."""
    local = mail.split("@")[0]
    directory.add(layout.user_dn(mail), {
        "objectClass": ["inetOrgPerson", "shadowAccount", "amavisAccount", "mailUser"],
        "mail": [mail], "uid": [local], "cn": [local], "sn": [local],
        "userPassword": [stored_password or hash_password(password)],
        "accountStatus": ["active"], "homeDirectory": [f"/var/vmail/vmail1/{mail}/"],
        "enabledService": ["mail", "deliver", "smtp", "imap", "pop3"],
        "amavisLocal": ["TRUE"], **attrs})
    return layout.user_dn(mail)


def add_admin(directory, layout, mail, password=PASSWORD, stored_password=None, **attrs):
    """A standalone admin (`mailAdmin` under LDAP_ADMIN_BASEDN)."""
    directory.add(layout.admin_dn(mail), {
        "objectClass": ["mailAdmin"], "mail": [mail], "cn": [mail.split("@")[0]],
        "userPassword": [stored_password or hash_password(password)],
        "accountStatus": ["active"], **attrs})
    return layout.admin_dn(mail)


class Refusing:
    """The real directory, except that `operation` ("add", "rename", ...) fails as if
    slapd went away."""

    def __init__(self, directory, operation):
        self._directory = directory
        self._operation = operation

    def __getattr__(self, name):
        if name == self._operation:
            return self._refuse
        return getattr(self._directory, name)

    @staticmethod
    def _refuse(*args, **kwargs):
        raise DirectoryUnavailable()


def form(client, method, path, data, headers=None, **kwargs):
    """A request with a form-encoded body, as iRedAdmin-Pro clients send it."""
    return client.simulate_request(
        method, path, body=urlencode(data),
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        **kwargs)


def login(client, username, password=PASSWORD, **kwargs):
    """POST /api/login; returns the result (session cookie in result.cookies)."""
    return form(client, "POST", "/api/login", {"username": username, "password": password},
                **kwargs)


def session_cookie(result):
    cookie = result.cookies.get(COOKIE_NAME)
    assert cookie is not None, result.json
    return {COOKIE_NAME: cookie.value}


def reply(result):
    """(HTTP status, _success, _msg) of an API reply."""
    body = result.json
    return result.status_code, body["_success"], body.get("_msg")


def replace(attribute, *values):
    from iredapi_ldap.directory import Change, Op
    return Change(attribute, Op.REPLACE, tuple(values))


def add_values(attribute, *values):
    from iredapi_ldap.directory import Change, Op
    return Change(attribute, Op.ADD, tuple(values))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (for now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_slapd(sssvlv=False):
    """A started, seeded throwaway slapd (`.accounts` holds the seeded credentials); with
    `sssvlv`, the server-side sorting overlay loaded."""
    server = IRedMailSlapd()
    server.sssvlv = sssvlv
    server.start()
    try:
        server.accounts = server.seed()
        yield server
    finally:
        server.stop()


def write_config(path, settings, **extra):
    """A YAML settings file for the command line with the directory and LDAP client of
    `settings`; returns its path."""
    values = {"LDAP_URI": settings.ldap_uri[0], "LDAP_BASEDN": settings.ldap_basedn,
              "LDAP_ADMIN_BASEDN": settings.ldap_admin_basedn,
              "LDAP_BIND_DN": settings.ldap_bind_dn,
              "LDAP_BIND_PASSWORD": settings.ldap_bind_password,
              "LDAP_CLIENT": settings.ldap_client, **extra}
    path.write_text("".join(f"{key}: '{value}'\n" for key, value in values.items()))
    return str(path)


def server_environment():
    """This environment without IREDAPI_* variables, which the program would read as
    settings: its settings come from the test's config file. (The tests' own variable,
    IREDMAIL_REFERENCE_DIR, lies outside that prefix for the same reason.)"""
    return {key: value for key, value in os.environ.items() if not key.startswith("IREDAPI_")}


def run_cli(*args, timeout=300):
    """Run `iredapi-ldap ARGS` as a separate process; returns the CompletedProcess."""
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "iredapi_ldap", *args], capture_output=True,
                          text=True, timeout=timeout, env=server_environment())


def reference_dir():
    """The upstream reference files (schemas, SQL): env IREDMAIL_REFERENCE_DIR, or
    ../shared/reference beside the repository.

    CI always has them; a clone elsewhere may not, and only then is a test that needs them
    skipped.
    """
    import pytest
    repo = Path(__file__).resolve().parents[1]
    candidate = Path(os.environ.get("IREDMAIL_REFERENCE_DIR", repo.parent / "shared" / "reference"))
    if candidate.is_dir():
        return candidate
    if os.environ.get("CI"):
        pytest.fail(f"reference files not found at {candidate}")
    pytest.skip(f"reference files not found at {candidate} (set IREDMAIL_REFERENCE_DIR)")
