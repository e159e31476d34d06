"""GET /metrics of a real `serve` with several gunicorn workers: the counts of every worker
summed, LDAP and SQL operations, failed and refused logins, directory failovers, and only
for the clients of METRICS_ALLOW."""

import http.client
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from .. import helpers, servers

REQUESTS = 40
WORKERS = 3


def get(base, path, headers=None):
    """(status, content type, body text) of a GET."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read().decode()
    finally:
        conn.close()


def samples(text):
    """{(name, sorted labels): value} of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(found, name, **labels):
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(value for (sample, sample_labels), value in found.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


def test_metrics_sum_every_worker(slapd, accounts, tmp_path):
    stale = tmp_path / "serve-data" / "metrics" / "counter_999999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    dead = f"ldap://127.0.0.1:{helpers.free_port()}"  # refuses connections: a failover
    with servers.serving(slapd, tmp_path, workers=WORKERS, LDAP_URI=[dead, slapd.ldap_uri],
                         TRUSTED_PROXIES=["127.0.0.1"], METRICS_ALLOW=["127.0.0.1"],
                         LOGIN_MAX_FAILURES=2) as base:
        assert not stale.exists()  # emptied at start
        cookie = servers.login(base, accounts.admin_mail, accounts.admin_password)
        # At once, so that every worker answers some of them.
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(
                lambda _: servers.call(base, "GET", "/api/domains", cookie=cookie),
                range(REQUESTS)))
        assert [status for status, _ in results] == [200] * REQUESTS
        logins = [servers.outcome(servers.call(base, "POST", "/api/login", {
            "username": "nobody@example.com", "password": "Wrong-password-1"}))
            for _ in range(3)]
        assert logins == [(401, False, "INVALID_CREDENTIALS")] * 2 + [
            (429, False, "TOO_MANY_LOGIN_ATTEMPTS")]

        status, content_type, text = get(base, "/metrics")
        # A client outside METRICS_ALLOW (behind the trusted proxy) gets an unknown URL.
        outside = get(base, "/metrics", {"X-Forwarded-For": "198.51.100.7"})
        beside = get(base, "/iredadmin/metrics")
        written = sorted(path.name for path in (tmp_path / "serve-data" / "metrics").iterdir())

    assert (status, content_type) == (200, "text/plain; version=0.0.4; charset=utf-8")
    assert outside[0] == 404 and "iredapi_ldap_" not in outside[2]
    assert beside[0] == 404
    assert len([name for name in written if name.startswith("counter_")]) >= 2, written
    assert "Warning" not in (tmp_path / "serve.log").read_text()  # nothing for the console

    found = samples(text)
    route = {"route": "/api/domains", "method": "GET"}
    assert total(found, "iredapi_ldap_requests_total", status="200", **route) == REQUESTS
    assert total(found, "iredapi_ldap_request_duration_seconds_count", **route) == REQUESTS
    assert total(found, "iredapi_ldap_requests_total", route="/api/login",
                  method="POST") == 4
    assert total(found, "iredapi_ldap_errors_total", code="INVALID_CREDENTIALS") == 2
    assert total(found, "iredapi_ldap_errors_total", code="TOO_MANY_LOGIN_ATTEMPTS") == 1
    assert total(found, "iredapi_ldap_login_failures_total", reason="invalid_credentials") == 2
    assert total(found, "iredapi_ldap_login_refusals_total", reason="too_many_attempts") == 1
    assert total(found, "iredapi_ldap_ldap_operations_total", operation="search",
                 outcome="ok") >= REQUESTS
    assert total(found, "iredapi_ldap_ldap_operation_duration_seconds_count",
                 operation="search") > 0
    assert total(found, "iredapi_ldap_sql_operations_total", database="iredadmin") > 0
    assert total(found, "iredapi_ldap_directory_failovers_total", result="next_server") >= 1
    # No address, account or URL in any label.
    for (_, labels), _ in found.items():
        for _, value in labels:
            assert "@" not in value and "127.0.0.1" not in value and "ldap:" not in value
