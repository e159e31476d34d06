"""The deployment of README's "Deployment": the API under `/iredadmin/api/` too, the nginx
site deploy/nginx/iredapi-ldap.conf over HTTPS in front of `serve`, and the systemd unit
deploy/systemd/iredapi-ldap.service."""

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .. import helpers, servers
from ..helpers import COOKIE_NAME

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SITE = DEPLOY / "nginx" / "iredapi-ldap.conf"
TEMPLATE = DEPLOY / "nginx" / "iredapi-ldap.tmpl"
UNIT = DEPLOY / "systemd" / "iredapi-ldap.service"
ALLOWED, SECOND, OTHER = "127.0.0.5", "127.0.0.7", "127.0.0.6"


# --- /iredadmin/api/ in the app itself -----------------------------------------------------

def test_every_api_url_answers_under_iredadmin_too(client, accounts):
    reply = helpers.login(client, accounts.admin_mail, accounts.admin_password)
    assert reply.status_code == 200 and reply.json == {"_success": True}
    cookies = helpers.session_cookie(reply)
    # A session from either path serves both.
    for prefix in ("/iredadmin/api", "/api"):
        reply = client.simulate_get(f"{prefix}/domains", params={"name_only": "yes"},
                                    cookies=cookies)
        assert reply.status_code == 200 and "example.com" in reply.json["_data"]
    reply = client.simulate_get("/iredadmin/api/domains")
    assert (reply.status_code, reply.json["_msg"]) == (401, "LOGIN_REQUIRED")
    # Only /iredadmin/api/...: the rest of /iredadmin/ is not the API's.
    for path in ("/iredadmin/api", "/iredadmin/domains", "/iredadmin/iredadmin/api/domains",
                 "/iredadmin/apis/domains", "/x/iredadmin/api/domains"):
        reply = client.simulate_get(path, cookies=cookies)
        assert (reply.status_code, reply.json["_msg"]) == (404, "NOT_FOUND"), path


# --- the nginx site over HTTPS -------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(certificate, key) of a self-signed certificate for api.example.com and 127.0.0.1."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl not found: install Debian's openssl (make test does)"
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "api.crt", where / "api.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=api.example.com", "-keyout", str(key), "-out", str(cert),
                    "-addext", "subjectAltName=DNS:api.example.com,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def _replace(text, old, new):
    assert old in text, f"{old!r} is no longer in the shipped file"
    return text.replace(old, new)


@pytest.fixture
def api(slapd, tmp_path):
    """`serve` trusting the local proxy, letting ALLOWED and SECOND in, two failed logins
    per (username, address)."""
    with servers.serving(slapd, tmp_path, workers=2, TRUSTED_PROXIES=["127.0.0.1"],
                         RESTRICT_API_ACCESS=True, RESTFUL_API_CLIENTS=[ALLOWED, SECOND],
                         LOGIN_MAX_FAILURES=2) as base:
        yield base


@pytest.fixture
def site(api, certificate, tmp_path):
    """(host, port) of nginx running the shipped site, as shipped but for its address,
    certificate, logs and upstream."""
    port = helpers.free_port()
    template = tmp_path / "iredapi-ldap.tmpl"
    template.write_text(_replace(TEMPLATE.read_text(), "http://127.0.0.1:8080", api))
    cert, key = certificate
    text = SITE.read_text()
    for old, new in [("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
                     ("listen [::]:443 ssl;", ""),
                     ("/etc/ssl/certs/iredapi-ldap.crt;", f"{cert};"),
                     ("/etc/ssl/private/iredapi-ldap.key;", f"{key};"),
                     ("/var/log/nginx/", f"{tmp_path}/nginx-"),
                     ("/etc/nginx/templates/iredapi-ldap.tmpl;", f"{template};")]:
        text = _replace(text, old, new)
    with servers.nginx(tmp_path, text, port):
        yield "127.0.0.1", port


def _request(address, method, path, data=None, cookie=None, source=None, tls=None,
             headers=None):
    """(status, reply, Set-Cookie) of one request to `address` (host, port) from local
    address `source`, over HTTPS if `tls` (the CA certificate to trust)."""
    host, port = address
    headers = dict(headers or {})
    body = None
    if cookie:
        headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
    if data is not None:
        body = urlencode(data)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    source_address = (source, 0) if source else None
    if tls:
        context = ssl.create_default_context(cafile=str(tls))
        conn = http.client.HTTPSConnection(host, port, timeout=30, context=context,
                                           source_address=source_address)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=30,
                                          source_address=source_address)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return (response.status, json.loads(response.read()),
                response.headers.get("Set-Cookie", ""))
    finally:
        conn.close()


def _cookie(set_cookie):
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def _attributes(set_cookie):
    return {part.strip().split("=", 1)[0].lower() for part in set_cookie.split(";")[1:]}


def test_the_site_serves_both_paths_over_https(site, api, certificate, accounts):
    cert, _ = certificate
    login = {"username": accounts.admin_mail, "password": accounts.admin_password}
    status, body, set_cookie = _request(site, "POST", "/iredadmin/api/login", login,
                                        source=ALLOWED, tls=cert)
    assert (status, body) == (200, {"_success": True})
    # The API learnt from nginx that the client came over HTTPS.
    assert {"secure", "httponly"} <= _attributes(set_cookie)
    cookie = _cookie(set_cookie)
    for path in ("/iredadmin/api/domains?name_only=yes", "/api/domains?name_only=yes"):
        status, body, _ = _request(site, "GET", path, cookie=cookie, source=ALLOWED, tls=cert)
        assert status == 200 and "example.com" in body["_data"], path
    # The allow-list sees the client, not nginx.
    status, body, _ = _request(site, "GET", "/iredadmin/api/domains", cookie=cookie,
                               source=OTHER, tls=cert)
    assert (status, body["_msg"]) == (403, "NOT_AUTHORIZED")
    # Nothing but the API is served.
    host, port = site
    conn = http.client.HTTPSConnection(
        host, port, timeout=30, context=ssl.create_default_context(cafile=str(cert)))
    conn.request("GET", "/iredadmin/")
    assert conn.getresponse().status == 404
    conn.close()
    # Straight to the API over HTTP (not through the proxy): no Secure cookie.
    host, port = api.removeprefix("http://").split(":")
    status, body, set_cookie = _request((host, int(port)), "POST", "/api/login", login,
                                        source=ALLOWED)
    assert status == 200 and "secure" not in _attributes(set_cookie)


def test_the_login_limits_see_the_client_through_the_site(site, certificate, accounts):
    cert, _ = certificate
    wrong = {"username": accounts.admin_mail, "password": "not-the-password"}
    replies = [_request(site, "POST", "/iredadmin/api/login", wrong, source=ALLOWED, tls=cert,
                        headers={"X-Forwarded-For": f"192.0.2.{n}"})[:2]  # spoofed: ignored
               for n in range(3)]
    assert [(status, body["_msg"]) for status, body in replies] == [
        (401, "INVALID_CREDENTIALS"), (401, "INVALID_CREDENTIALS"),
        (429, "TOO_MANY_LOGIN_ATTEMPTS")]
    right = {"username": accounts.admin_mail, "password": accounts.admin_password}
    status, body, _ = _request(site, "POST", "/api/login", right, source=ALLOWED, tls=cert)
    assert (status, body["_msg"]) == (429, "TOO_MANY_LOGIN_ATTEMPTS")
    # Another client is not locked out by the first one's failures.
    status, body, _ = _request(site, "POST", "/api/login", right, source=SECOND, tls=cert)
    assert (status, body) == (200, {"_success": True})


def test_the_template_serves_both_paths_alike():
    blocks = re.findall(r"^location ([^{]+)\{\n(.*?)^\}", TEMPLATE.read_text(),
                        re.MULTILINE | re.DOTALL)
    assert [where.strip() for where, _ in blocks] == ["^~ /api/", "^~ /iredadmin/api/"]
    assert blocks[0][1] == blocks[1][1]


# --- the systemd unit ----------------------------------------------------------------------

def _systemd_analyze():
    path = shutil.which("systemd-analyze")
    assert path, "systemd-analyze not found: install Debian's systemd (make test does)"
    return path


@pytest.fixture
def unit(tmp_path):
    """The shipped unit with ExecStart pointing at a stand-in executable (verify checks
    that the program exists)."""
    program = tmp_path / "iredapi-ldap"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    path = tmp_path / "iredapi-ldap.service"
    path.write_text(_replace(UNIT.read_text(), "ExecStart=/opt/iredapi-ldap/bin/iredapi-ldap ",
                             f"ExecStart={program} "))
    return path


def test_the_systemd_unit_verifies(unit, tmp_path):
    text = UNIT.read_text()
    assert ("ExecStart=/opt/iredapi-ldap/bin/iredapi-ldap serve --config "
            "/etc/iredapi-ldap/config.yaml\n") in text
    for line in ("User=iredapi", "Group=iredapi", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "ReadWritePaths=/var/lib/iredapi-ldap", "StateDirectory=iredapi-ldap"):
        assert f"\n{line}\n" in text, line
    # --man=no: the unit names no man page. An unknown key or a bad value is only a warning
    # (exit status 0): any output fails too.
    run = subprocess.run([_systemd_analyze(), "verify", "--man=no", str(unit)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert (run.returncode, run.stdout + run.stderr) == (0, "")
    run = subprocess.run([_systemd_analyze(), "security", "--offline=yes", str(unit)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    level = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", run.stdout)
    assert level and level.group(2) in ("SAFE", "OK"), run.stdout[-300:]


def test_serve_tells_systemd_when_it_is_ready(slapd, tmp_path):
    """Type=notify: gunicorn's arbiter, the `serve` process itself (NotifyAccess=main), sends
    READY=1 to $NOTIFY_SOCKET."""
    address = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(address))
        notify.settimeout(60)
        with servers.serving(slapd, tmp_path, workers=1,
                             environment={"NOTIFY_SOCKET": str(address)}):
            message = notify.recv(4096).decode()
    assert "READY=1" in message.splitlines()
