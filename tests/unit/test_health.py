"""The health check's pure parts: probes in parallel and bounded in time, one in flight per
backend, reports reused briefly, and nothing secret in what it shows."""

import threading
import time

import pytest
from sqlalchemy.engine import make_url

from iredapi_ldap import errors
from iredapi_ldap.config import ConfigError, load_settings
from iredapi_ldap.policy.engine import Databases, _probe_args, _read_only_sqlite
from iredapi_ldap.services.health import Backend, HealthCheck, _public_uri, backends


def backend(name, probe):
    return Backend("database", name, {"name": name, "kind": "fake", "location": "here"}, probe)


def fine():
    pass


def refused():
    raise errors.DatabaseUnavailable(detail="unreachable")


def test_all_up_is_healthy_with_latencies():
    report = HealthCheck([backend("a", fine), backend("b", fine)], timeout=2).report()
    assert report.healthy
    data = report.details()
    assert data["ldap"] == []
    assert [(d["name"], d["up"]) for d in data["databases"]] == [("a", True), ("b", True)]
    assert all(isinstance(d["latency_ms"], float) and "error" not in d
               for d in data["databases"])


def test_one_down_is_unhealthy_and_says_why():
    report = HealthCheck([backend("a", fine), backend("b", refused)], timeout=2).report()
    assert not report.healthy
    down = report.details()["databases"][1]
    assert (down["up"], down["error"]) == (False, "unreachable")


def server(uri, probe):
    return Backend("ldap", f"ldap {uri}", {"uri": uri}, probe)


def test_a_server_of_several_down_is_healthy_none_up_is_not():
    """The API reads and writes through the first server that answers: one down of two is
    shown, not a failure; every server down, or a database down, is."""
    one_down = [server("ldap://a", refused), server("ldap://b", fine), backend("db", fine)]
    report = HealthCheck(one_down, timeout=2).report()
    assert report.healthy
    assert [d["up"] for d in report.details()["ldap"]] == [False, True]
    none_up = [server("ldap://a", refused), server("ldap://b", refused), backend("db", fine)]
    assert not HealthCheck(none_up, timeout=2).report().healthy
    db_down = [server("ldap://a", fine), backend("db", refused)]
    assert not HealthCheck(db_down, timeout=2).report().healthy


def test_an_unexpected_failure_is_down_without_its_text():
    def broken():
        raise RuntimeError("password=hunter2")
    report = HealthCheck([backend("a", broken)], timeout=2).report()
    assert report.details()["databases"][0]["error"] == "error"
    assert "hunter2" not in repr(report.details()) + "".join(report.lines())


def test_a_probe_that_never_answers_is_down_in_time_and_never_doubled():
    release, calls = threading.Event(), []

    def hangs():
        calls.append(1)
        release.wait(30)
    check = HealthCheck([backend("slow", hangs), backend("a", fine)], timeout=0.5, reuse=0)
    try:
        for _ in range(3):
            started = time.monotonic()
            report = check.report()
            assert time.monotonic() - started < 1.5
            assert report.details()["databases"][0]["error"] == "no answer within 0.5 s"
            assert report.details()["databases"][1]["up"]
        assert len(calls) == 1  # the hung probe is waited on again, not started anew
    finally:
        release.set()
    time.sleep(0.1)
    assert check.report().healthy  # it came back: the next check starts a new probe
    assert len(calls) == 2


def test_reports_are_reused_briefly():
    calls = []
    now = [100.0]
    check = HealthCheck([backend("a", lambda: calls.append(1))], timeout=1, reuse=1.0,
                        clock=lambda: now[0])
    check.report()
    check.report()
    assert len(calls) == 1
    now[0] += 1.5
    check.report()
    assert len(calls) == 2


def test_backends_are_listed_on_the_first_check():
    listed = []

    def lister():
        listed.append(1)
        return [backend("a", fine)]
    check = HealthCheck(lister, timeout=1, reuse=0)
    assert listed == []
    check.report()
    check.report()
    assert listed == [1]


def test_lines_name_each_backend():
    class Directory:
        uris = ("ldap://cn=x:pw@ldap1.example.com:389/dc=example?one", "ldapi://%2Fvar%2Frun")

        def probe(self, uri, timeout):
            if "ldap1" in uri:
                raise errors.DirectoryUnavailable(detail="unreachable")

    class Fakes:
        engines = {"amavisd": None}

        def probe(self, name, timeout):
            pass

        def describe(self, name):
            return {"name": name, "kind": "mysql", "location": "db:3306/amavisd"}
    report = HealthCheck(backends(Directory(), Fakes(), 1), timeout=1).report()
    lines = report.lines()
    assert lines[0].startswith("ldap ldap://ldap1.example.com:389: DOWN (unreachable), ")
    assert lines[1].startswith("ldap ldapi://%2Fvar%2Frun: up, ")
    assert lines[2].startswith("database amavisd (mysql, db:3306/amavisd): up, ")
    assert "pw" not in "".join(lines)


@pytest.mark.parametrize("uri, public", [
    ("ldap://127.0.0.1:389", "ldap://127.0.0.1:389"),
    ("ldaps://ldap.example.com/dc=example,dc=com??sub?bindname=cn=x", "ldaps://ldap.example.com"),
    ("ldap://user:secret@host:389", "ldap://host:389"),
])
def test_public_uri_keeps_only_scheme_host_and_port(uri, public):
    assert _public_uri(uri) == public


def test_databases_are_described_without_credentials(tmp_path):
    databases = Databases({
        "amavisd": "mysql+pymysql://amavisd:s3cret@db.example.com:3306/amavisd?charset=utf8mb4",
        "iredapd": "postgresql+psycopg://iredapd:s3cret@pg/iredapd?sslpassword=s3cret",
        "iredadmin": f"sqlite:///{tmp_path}/iredadmin.sqlite"})
    assert databases.describe("amavisd") == {"name": "amavisd", "kind": "mysql",
                                             "location": "db.example.com:3306/amavisd"}
    assert databases.describe("iredapd") == {"name": "iredapd", "kind": "postgresql",
                                             "location": "pg/iredapd"}
    assert databases.describe("iredadmin")["location"] == f"{tmp_path}/iredadmin.sqlite"


def test_a_missing_sqlite_file_is_down_and_not_created(tmp_path):
    databases = Databases({"iredadmin": f"sqlite:///{tmp_path}/gone.sqlite"})
    with pytest.raises(errors.DatabaseUnavailable):
        databases.probe("iredadmin", 1)
    assert list(tmp_path.iterdir()) == []


def test_probe_timeouts_in_each_drivers_terms():
    assert _probe_args(make_url("mysql+pymysql://u:p@h/d"), 3) == {
        "connect_timeout": 3, "read_timeout": 3, "write_timeout": 3}
    assert _probe_args(make_url("postgresql+psycopg://u:p@h/d"), 1) == {"connect_timeout": 2}
    assert _probe_args(make_url("sqlite:///x.sqlite"), 3) == {"timeout": 3}
    url = _read_only_sqlite(make_url("sqlite:///dir with space/x.sqlite"))
    assert url.query == {"mode": "rw", "uri": "true"}
    assert url.database.startswith("file:/")
    assert url.database.endswith("dir%20with%20space/x.sqlite")


def test_health_timeout_setting():
    assert load_settings(environ={}, ldap_bind_password="x").health_timeout == 3
    assert load_settings(environ={"IREDAPI_HEALTH_TIMEOUT": "5"},
                         ldap_bind_password="x").health_timeout == 5
    with pytest.raises(ConfigError, match="^HEALTH_TIMEOUT: must be greater than 0"):
        load_settings(environ={"IREDAPI_HEALTH_TIMEOUT": "0"}, ldap_bind_password="x")


def ldap_status(uri, up, csns):
    from iredapi_ldap.services.health import Status
    backend = Backend("ldap", f"ldap {uri}", {"uri": uri}, lambda: None)
    return Status(backend, up, 1.0, None if up else "unreachable", {"context_csn": csns})


def test_lag_is_how_far_each_server_id_trails_the_leader():
    from iredapi_ldap.services.health import Report, replication
    leader = ["20261129105317.500000Z#000000#001#000000",
              "20261129105300.000000Z#000000#002#000000"]
    behind = ["20261129105317.250000Z#000000#001#000000",
              "20261129105300.000000Z#000000#002#000000"]
    ahead = ["20261129105318.000000Z#000000#001#000000",
             "20261129105300.000000Z#000000#002#000000"]
    lacking = ["20261129105317.500000Z#000000#001#000000"]
    report = Report((ldap_status("ldap://a", True, leader), ldap_status("ldap://b", True, behind),
                     ldap_status("ldap://c", True, ahead), ldap_status("ldap://d", True, lacking),
                     ldap_status("ldap://e", False, [])))
    view = replication(report, "ldap://a/")
    assert view["leader"] == "ldap://a"
    assert [(s["uri"], s["leader"], s["lag_ms"]) for s in view["ldap"]] == [
        ("ldap://a", True, 0.0), ("ldap://b", False, 250.0), ("ldap://c", False, 0.0),
        ("ldap://d", False, None), ("ldap://e", False, None)]
    down_leader = Report((ldap_status("ldap://a", False, []),
                          ldap_status("ldap://b", True, behind)))
    assert [s["lag_ms"] for s in replication(down_leader, "ldap://a")["ldap"]] == [None, None]


def test_key_id_is_a_fingerprint_not_the_key():
    from iredapi_ldap.sessions import key_id
    assert key_id("k" * 32) == key_id("k" * 32) != key_id("k" * 31 + "j")
    assert len(key_id("k" * 32)) == 8 and "k" not in key_id("k" * 32)
