"""The deployment the README documents: the real nginx, with the shipped
deploy/nginx/iredapi-ldap.tmpl, in front of `serve`. Slow clients do not stop others from
being served; the API sees the client's own address."""

import socket
import threading
import time
from pathlib import Path

import pytest

from .. import helpers, servers
from ..servers import call

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "iredapi-ldap.tmpl"
ALLOWED, OTHER = "127.0.0.5", "127.0.0.6"


@pytest.fixture
def api(slapd, ldap_client, tmp_path):
    """`serve` with two workers that trusts the local proxy and lets only ALLOWED in."""
    with servers.serving(slapd, tmp_path, workers=2, LDAP_CLIENT=ldap_client,
                         TRUSTED_PROXIES=["127.0.0.1"], RESTRICT_API_ACCESS=True,
                         RESTFUL_API_CLIENTS=[ALLOWED]) as base:
        yield base


@pytest.fixture
def proxy(api, tmp_path):
    """Base URL of nginx serving the shipped location blocks in front of `api`."""
    port = helpers.free_port()
    site = tmp_path / "iredapi-ldap.tmpl"
    site.write_text(TEMPLATE.read_text().replace("http://127.0.0.1:8080", api))
    server = f"server {{\n    listen 127.0.0.1:{port};\n    include {site};\n}}"
    with servers.nginx(tmp_path, server, port):
        yield f"http://127.0.0.1:{port}"


def _from(source, base, path):
    """(status, reply) of a GET of `path` sent from local address `source`."""
    import http.client
    import json
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _trickle(base, stop):
    """A client that sends its request headers one byte every half second, until `stop`."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    try:
        sock.sendall(b"GET /api/domains HTTP/1.1\r\nHost: x\r\n")
        while not stop.is_set():
            sock.sendall(b"X")
            stop.wait(0.5)
    except OSError:
        pass
    finally:
        sock.close()


def _served_within(base, seconds, slow_clients=6):
    """Whether a normal request is answered within `seconds` while slow clients hang on."""
    stop = threading.Event()
    threads = [threading.Thread(target=_trickle, args=(base, stop)) for _ in range(slow_clients)]
    for thread in threads:
        thread.start()
    time.sleep(1)  # they have all connected, and (without nginx) taken every worker
    try:
        started = time.monotonic()
        status, _ = call(base, "GET", "/api/domains", timeout=seconds)  # 401 will do
        return status != 0 and time.monotonic() - started < seconds
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_slow_clients_do_not_stop_the_api_behind_nginx(api, proxy):
    # Straight to gunicorn, slow clients take both workers: nobody else is served.
    assert not _served_within(api, 3)
    # Through nginx, the same clients wait in nginx; the API answers everyone else.
    assert _served_within(proxy, 3)


def test_the_api_sees_the_client_through_nginx(proxy, tmp_path):
    status, body = _from(ALLOWED, proxy, "/api/domains")
    assert (status, body["_msg"]) == (401, "LOGIN_REQUIRED")  # allowed, not logged in
    status, body = _from(OTHER, proxy, "/api/domains")
    assert (status, body["_msg"]) == (403, "NOT_AUTHORIZED")
    deadline = time.monotonic() + 10  # gunicorn logs a request after answering it
    while time.monotonic() < deadline:
        log = (tmp_path / "serve.log").read_text()
        if f"{ALLOWED} " in log and f"{OTHER} " in log:
            break
        time.sleep(0.1)
    assert f"{ALLOWED} " in log and f"{OTHER} " in log  # the access log names the clients
