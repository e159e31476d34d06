"""GET /metrics: who may read it (METRICS_ALLOW, behind trusted proxies too), where it
answers and where not, and what the labels hold: route templates, never the URL's
addresses."""

import subprocess
import sys
import textwrap

import pytest
from falcon import testing

from iredapi_ldap import metrics
from iredapi_ldap.app import create_app
from iredapi_ldap.config import ConfigError, load_settings
from iredapi_ldap.http.metrics import Metrics, error_codes, method_label

from ..helpers import login

MAIL = "someone.private@example.com"


class NoAccounts:
    """A directory with no entries at all: every login is a wrong password."""

    def get(self, dn, attributes=None):
        return None


def settings_of(tmp_path, **values):
    return load_settings(environ={}, ldap_bind_password="x", data_dir=str(tmp_path),
                         **{"enable_restful_api": True, **values})


def client_of(tmp_path, **values):
    return testing.TestClient(create_app(settings_of(tmp_path, **values), NoAccounts()))


def sample(name, **labels):
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_allow_list_default_is_the_loopback_addresses_only(tmp_path):
    gate = Metrics(settings_of(tmp_path))
    assert gate.allowed("127.0.0.1") and gate.allowed("::1")
    assert gate.allowed("::ffff:127.0.0.1")  # the same client as 127.0.0.1
    for other in ("127.0.0.2", "10.0.0.1", "2001:db8::1", "unknown", ""):
        assert not gate.allowed(other), other


def test_allow_list_takes_networks_and_empty_turns_metrics_off(tmp_path):
    gate = Metrics(settings_of(tmp_path, metrics_allow=("10.1.0.0/16", "2001:db8::/32")))
    assert gate.allowed("10.1.200.3") and gate.allowed("2001:db8:5::9")
    assert not gate.allowed("127.0.0.1") and not gate.allowed("10.2.0.1")
    off = Metrics(settings_of(tmp_path, metrics_allow=()))
    assert not off.allowed("127.0.0.1") and not off.allowed("::1")


def test_metrics_allow_setting_is_validated(tmp_path):
    assert settings_of(tmp_path).metrics_allow == ("127.0.0.1", "::1")
    assert load_settings(environ={"IREDAPI_METRICS_ALLOW": "", "IREDAPI_LDAP_BIND_PASSWORD": "x"}
                         ).metrics_allow == ()
    assert load_settings(environ={"IREDAPI_METRICS_ALLOW": "192.0.2.0/24, ::1",
                                  "IREDAPI_LDAP_BIND_PASSWORD": "x"}
                         ).metrics_allow == ("192.0.2.0/24", "::1")
    with pytest.raises(ConfigError, match="METRICS_ALLOW"):
        settings_of(tmp_path, metrics_allow=("not-an-address",))


def test_an_allowed_client_reads_prometheus_text_without_a_session(tmp_path):
    # Neither the API switch nor its client allow-list apply to /metrics.
    client = client_of(tmp_path, enable_restful_api=False)
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE iredapi_ldap_requests_total counter" in result.text
    restricted = client_of(tmp_path, restrict_api_access=True,
                           restful_api_clients=("192.0.2.1",))
    assert restricted.simulate_get("/metrics").status_code == 200
    assert restricted.simulate_get("/metrics", remote_addr="::1").status_code == 200


@pytest.mark.parametrize("values, remote, headers", [
    ({}, "10.0.0.8", {}),
    ({"metrics_allow": ()}, "127.0.0.1", {}),
    # Behind a trusted proxy, the client is the forwarded address, not the proxy's.
    ({"trusted_proxies": ("127.0.0.1",)}, "127.0.0.1", {"X-Forwarded-For": "198.51.100.7"}),
])
def test_other_clients_get_what_an_unknown_url_gets(tmp_path, values, remote, headers):
    result = client_of(tmp_path, **values).simulate_get("/metrics", remote_addr=remote,
                                                        headers=headers)
    assert (result.status_code, result.json["_msg"]) == (404, "NOT_FOUND")
    assert "iredapi_ldap_" not in result.text


def test_a_forwarded_client_in_the_allow_list_reads_them(tmp_path):
    client = client_of(tmp_path, trusted_proxies=("10.0.0.1",),
                       metrics_allow=("198.51.100.0/24",))
    ok = client.simulate_get("/metrics", remote_addr="10.0.0.1",
                             headers={"X-Forwarded-For": "198.51.100.7"})
    assert ok.status_code == 200 and "iredapi_ldap_requests_total" in ok.text
    # A client that is not behind the trusted proxy cannot claim an address.
    spoofed = client.simulate_get("/metrics", remote_addr="203.0.113.5",
                                  headers={"X-Forwarded-For": "198.51.100.7"})
    assert spoofed.status_code == 404


@pytest.mark.parametrize("path", ["/iredadmin/metrics", "/iredadmin/api/metrics",
                                  "/api/metrics", "/metrics/more"])
def test_metrics_answer_at_slash_metrics_only(tmp_path, path):
    assert client_of(tmp_path).simulate_get(path).status_code == 404


def test_only_get_and_head_read_them(tmp_path):
    client = client_of(tmp_path)
    assert client.simulate_head("/metrics").status_code == 200
    assert client.simulate_post("/metrics").status_code == 404


def test_requests_are_counted_by_route_template_never_by_url(tmp_path):
    client = client_of(tmp_path)
    labels = {"route": "/api/user/{mail}", "method": "GET", "status": "401"}
    before = sample("iredapi_ldap_requests_total", **labels)
    duration_before = sample("iredapi_ldap_request_duration_seconds_count",
                             route="/api/user/{mail}", method="GET")
    errors_before = sample("iredapi_ldap_errors_total", code="LOGIN_REQUIRED")
    assert client.simulate_get(f"/api/user/{MAIL}").status_code == 401
    assert client.simulate_get(f"/iredadmin/api/user/{MAIL}").status_code == 401
    unmatched = sample("iredapi_ldap_requests_total", route="unmatched", method="GET",
                       status="404")
    assert client.simulate_get(f"/no/such/{MAIL}").status_code == 404
    assert sample("iredapi_ldap_requests_total", **labels) == before + 2
    assert sample("iredapi_ldap_request_duration_seconds_count", route="/api/user/{mail}",
                  method="GET") == duration_before + 2
    assert sample("iredapi_ldap_errors_total", code="LOGIN_REQUIRED") == errors_before + 2
    assert sample("iredapi_ldap_requests_total", route="unmatched", method="GET",
                  status="404") == unmatched + 1
    text = client.simulate_get("/metrics").text
    assert MAIL not in text and "example.com" not in text and "/no/such" not in text
    assert 'route="/metrics"' in client.simulate_get("/metrics").text


def test_login_failures_are_counted(tmp_path):
    client = client_of(tmp_path, login_max_failures=2)
    failures = sample("iredapi_ldap_login_failures_total", reason="invalid_credentials")
    refusals = sample("iredapi_ldap_login_refusals_total", reason="too_many_attempts")
    statuses = [login(client, MAIL, "Wrong-password-1").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert sample("iredapi_ldap_login_failures_total",
                  reason="invalid_credentials") == failures + 2
    assert sample("iredapi_ldap_login_refusals_total",
                  reason="too_many_attempts") == refusals + 1
    # The logins' records in iRedAdmin's database are SQL operations.
    assert sample("iredapi_ldap_sql_operations_total", database="iredadmin",
                  operation="write", outcome="ok") > 0


def test_labels_of_unusual_methods_and_replies():
    assert method_label("GET") == "GET" and method_label("BREW") == "other"
    assert error_codes({"_success": False, "_msg": "PW_NO_DIGIT_NUMBER,PW_NO_LETTER"}) == [
        "PW_NO_DIGIT_NUMBER", "PW_NO_LETTER"]
    assert error_codes({"_success": True}) == [] and error_codes(None) == []


def test_every_metric_has_labels():
    """A metric without labels has its value made when it is defined, before `serve` can
    switch to the multiprocess mode: every one must have labels."""
    for metric in metrics.ALL:
        assert metric._labelnames, metric


def test_multiprocess_mode_sums_the_processes(tmp_path):
    """Switched after the import (as `serve` does), the values of forked processes add up,
    also of labels recorded before the switch."""
    script = textwrap.dedent(f"""
        import os
        from iredapi_ldap import metrics
        metrics.LDAP_OPERATIONS.labels("search", "ok").inc(100)  # before: forgotten
        metrics.use_multiprocess_dir({str(tmp_path / "m")!r})
        children = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                metrics.LDAP_OPERATIONS.labels("search", "ok").inc(2)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
            metrics.mark_process_dead(pid)
        print(metrics.exposition().decode())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert 'iredapi_ldap_ldap_operations_total{operation="search",outcome="ok"} 6.0' in out
