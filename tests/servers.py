"""`iredapi-ldap serve` as a real server (gunicorn, several worker processes) for tests
whose point is concurrency or faults, and a small HTTP client for it."""

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import yaml

from . import helpers
from .helpers import COOKIE_NAME


@contextlib.contextmanager
def serving(slapd, tmp_path, workers=4, environment=None, **settings):
    """Base URL of `serve` on the test slapd with `workers` processes; `settings` are
    more configuration keys (upper-case), `environment` more environment variables. Its
    output goes to tmp_path/serve.log."""
    acc = slapd.accounts
    values = {"ENABLE_RESTFUL_API": True, "LDAP_URI": slapd.ldap_uri,
              "LDAP_BASEDN": acc.domains_dn, "LDAP_ADMIN_BASEDN": acc.admins_dn,
              "LDAP_BIND_DN": acc.vmailadmin_dn, "LDAP_BIND_PASSWORD": acc.vmailadmin_password,
              "LDAP_CONNECT_TIMEOUT": 2, "LDAP_TIMEOUT": 10,
              "DATA_DIR": str(tmp_path / "serve-data"), **settings}
    config = tmp_path / "serve.yaml"
    config.write_text(yaml.safe_dump(values))
    port = helpers.free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "iredapi_ldap", "serve", "--config",
                             str(config), "--bind", f"127.0.0.1:{port}", "--workers",
                             str(workers)], stdout=log, stderr=subprocess.STDOUT,
                            env={**helpers.server_environment(), **(environment or {})})
    try:
        _wait_listening(proc, port, tmp_path / "serve.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def nginx_binary():
    path = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/bin")
    if path is None:
        raise RuntimeError("nginx not found: install Debian's nginx-light (make test does)")
    return path


@contextlib.contextmanager
def nginx(tmp_path, servers_text, port):
    """A real nginx in tmp_path serving `servers_text` (its `server` blocks, which listen
    on 127.0.0.1:`port`) until the block ends. Its error log: tmp_path/nginx-error.log."""
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    user = "user root;\n" if os.getuid() == 0 else ""
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""{user}daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{servers_text}
}}
""")
    proc = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_listening(proc, port, tmp_path / "nginx-error.log")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_listening(proc, port, log_path, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError("serve exited early:\n" + Path(log_path).read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not start listening") from None
            time.sleep(0.1)


def call(base, method, path, data=None, cookie=None, timeout=60):
    """(status, reply) of one request; `data` goes form-encoded in the body (or, for GET,
    in the query string). A reply that is not JSON (none came) is (0, None)."""
    host, port = base.removeprefix("http://").split(":")
    headers = {}
    body = None
    if cookie:
        headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
    if data is not None and method == "GET":
        path += "?" + urlencode(data)
    elif data is not None:
        body = urlencode(data)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        cookie_header = response.headers.get("Set-Cookie", "")
    except OSError:
        return 0, None
    finally:
        conn.close()
    try:
        body = json.loads(raw)
    except ValueError:
        return response.status, None
    if cookie_header.startswith(f"{COOKIE_NAME}="):
        body["_cookie"] = cookie_header.split(";", 1)[0].split("=", 1)[1]
    return response.status, body


def login(base, username, password=helpers.PASSWORD):
    """The session cookie's value."""
    status, body = call(base, "POST", "/api/login",
                        {"username": username, "password": password})
    assert status == 200, body
    return body["_cookie"]


def outcome(result):
    """(status, _success, _msg) of a `call` result."""
    status, body = result
    return (status, body.get("_success"), body.get("_msg")) if body else (status, None, None)
