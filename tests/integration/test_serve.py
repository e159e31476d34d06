"""`iredapi-ldap serve` under gunicorn, over real HTTP, with a YAML config file."""

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .. import helpers


@pytest.fixture
def serving(slapd, base_settings, tmp_path):
    """(process, base URL) of `serve` with two workers, listening."""
    acc = slapd.accounts
    config = tmp_path / "iredapi.yaml"
    config.write_text(
        "ENABLE_RESTFUL_API: true\n"
        f"LDAP_URI: {slapd.ldap_uri}\n"
        f"LDAP_BASEDN: {acc.domains_dn}\nLDAP_ADMIN_BASEDN: {acc.admins_dn}\n"
        f"LDAP_BIND_DN: {acc.vmailadmin_dn}\nLDAP_BIND_PASSWORD: {acc.vmailadmin_password}\n"
        f"DATA_DIR: {tmp_path / 'data'}\n")
    port = helpers.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "iredapi_ldap", "serve", "--config",
                             str(config), "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail("serve exited early:\n" + proc.stdout.read())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("serve did not start listening")
            time.sleep(0.1)
    yield proc, base
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def server(serving):
    return serving[1]


def call(opener, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_curl_like_session_over_gunicorn(server, accounts):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    assert call(opener, f"{server}/api/domains") == (
        401, {"_success": False, "_msg": "LOGIN_REQUIRED"})
    status, body = call(opener, f"{server}/api/login",
                        {"username": accounts.admin_mail, "password": accounts.admin_password})
    assert (status, body) == (200, {"_success": True})
    # Every worker accepts the session: the signing key is shared through DATA_DIR.
    for _ in range(6):
        status, body = call(opener, f"{server}/api/domains?name_only=yes")
        assert status == 200 and "example.com" in body["_data"]


def test_workers_wake_alone_and_stop_at_once(serving, accounts):
    proc, base = serving
    opener = urllib.request.build_opener()
    for _ in range(4):  # both workers answer in turn
        assert call(opener, f"{base}/api/logout", {}) == (200, {"_success": True})
    started = time.monotonic()
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    # Idle workers notice SIGTERM through their wake-up pipe, not after gunicorn's 30 s
    # graceful timeout.
    assert time.monotonic() - started < 10
    log = proc.stdout.read()
    assert "Using worker: iredapi_ldap.workers.ExclusiveAcceptWorker" in log
    assert log.count("Booting worker") == 2 and "Traceback" not in log


def test_help_lists_the_commands():
    run = subprocess.run([sys.executable, "-m", "iredapi_ldap", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and "serve" in run.stdout and "dev" in run.stdout
    run = subprocess.run([sys.executable, "-m", "iredapi_ldap", "serve", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert "--config" in run.stdout and "--workers" in run.stdout and "--timeout" in run.stdout


def _wait_for(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_control_socket_is_the_instances_own(serving, tmp_path):
    """gunicorn's control socket lives in DATA_DIR, not at the per-user default path that
    every instance on the host would share."""
    proc, _ = serving
    control = tmp_path / "data" / "gunicorn.ctl"
    # The arbiter opens it in a thread of its own.
    _wait_for(control.is_socket, "no control socket in DATA_DIR", seconds=10)
    proc.terminate()
    proc.wait(timeout=30)
    assert not control.exists()


def _children(pid):
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as children:
        return [int(child) for child in children.read().split()]


def _workers(pid):
    """The gunicorn workers of `dev` at `pid` (its other child is slapd)."""
    found = []
    for child in _children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                if b"iredapi_ldap" in cmdline.read():
                    found.append(child)
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited meanwhile (between the listing and the open, or the read)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_dev_keeps_its_data_while_workers_restart_and_removes_it_on_ctrl_c(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = helpers.free_port()
    banner = tmp_path / "banner"
    with open(banner, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "iredapi_ldap", "dev", "--bind",
                                 f"127.0.0.1:{port}", "--workers", "2"],
                                env={**helpers.server_environment(), "TMPDIR": str(temp)},
                                stdout=out, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: proc.poll() is None and len(_workers(proc.pid)) == 2
                  and list(temp.glob("iredapi-ldap-dev-*/secret_key")),
                  "dev did not start two workers")
        data_dir, = temp.glob("iredapi-ldap-dev-*")
        key = (data_dir / "secret_key").read_bytes()
        _dev_settings_serve_the_other_commands(banner.read_text(), data_dir, key)
        first = _workers(proc.pid)[0]
        os.kill(first, signal.SIGTERM)  # a worker that exits unwinds through `dev`
        _wait_for(lambda: first not in _workers(proc.pid) and len(_workers(proc.pid)) == 2,
                  "the worker was not replaced", seconds=30)
        # The API still answers.
        for _ in range(4):
            status, body = call(urllib.request.build_opener(),
                                f"http://127.0.0.1:{port}/api/domains")
            assert (status, body["_msg"]) == (401, "LOGIN_REQUIRED")
        # Not removed and made anew by the new worker: the workers would sign sessions
        # with different keys.
        assert (data_dir / "secret_key").read_bytes() == key
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert list(temp.iterdir()) == []  # slapd's directory and the API's data are gone


def _dev_settings_serve_the_other_commands(banner, data_dir, key):
    """`dev` names its settings file (bind password included, mode 0600), and export and
    doctor work against its directory with it."""
    path = data_dir / "settings.yaml"
    assert f"settings: {path}\n" in banner and f"--config {path}" in banner
    assert path.stat().st_mode & 0o777 == 0o600
    assert f"SECRET_KEY: {key.decode().strip()}" in path.read_text()
    export = helpers.run_cli("export", "--all", "--config", str(path))
    assert export.returncode == 0, export.stderr
    assert "dn: mail=postmaster@example.com," in export.stdout
    # The installer's tree has no counters yet: not a drift (the first write counts).
    doctor = helpers.run_cli("doctor", "--config", str(path))
    assert doctor.returncode == 0 and doctor.stderr == "", doctor.stderr
    assert "checked 1 domain(s): 0 container(s) missing, 0 counter(s) drifted" \
        in doctor.stdout


def _raw_request(base, method, path, body=None, headers=None):
    """(status, parsed reply, headers) of one request over http.client."""
    import http.client
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {},
                     encode_chunked=body is not None and not isinstance(body, (bytes, str)))
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.headers
    finally:
        conn.close()


def test_a_chunked_body_is_read(server, accounts):
    form = urllib.parse.urlencode({"username": accounts.admin_mail,
                                   "password": accounts.admin_password}).encode()
    chunks = iter([form[:7], form[7:20], form[20:]])  # no Content-Length: chunked
    status, body, headers = _raw_request(
        server, "POST", "/api/login", chunks,
        {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body) == (200, {"_success": True})
    assert "iRedAdmin-Pro-LDAP=" in headers.get("Set-Cookie", "")


def test_no_password_reaches_the_access_log(serving, accounts):
    proc, base = serving
    secret = "Secr3t-" + os.urandom(6).hex()
    status, body, _ = _raw_request(
        base, "POST", f"/api/login?username={accounts.admin_mail}&password={secret}")
    assert (status, body["_msg"]) == (400, "INVALID_PARAMETER")
    for path in (f"/api/domains?password={secret}", f"/api/user/x@y.test?password_hash={secret}",
                 f"/api/login?Password={secret}&x=1"):
        _raw_request(base, "GET", path)
    proc.terminate()
    proc.wait(timeout=30)
    log = proc.stdout.read()
    assert "/api/login?username=" in log and "password=***" in log  # logged, masked
    assert secret not in log
