"""GET /api/health and `iredapi-ldap healthcheck` against real servers: slapd killed and
back, a server that accepts connections and never answers, databases down (a private
MariaDB killed, closed ports), and what each kind of caller may see."""

import socket
import time

import pytest
from falcon import testing

from iredapi_ldap.app import create_app
from iredapi_ldap.policy.store import SqlPolicyStore
from iredapi_ldap.policy.tables import DATABASES

from .. import helpers
from ..helpers import login, session_cookie
from ..mariadb import MariaDB

TIMEOUT = 2  # HEALTH_TIMEOUT of these tests
SHORT_DOWN = {"_success": False, "_msg": "SERVICE_UNAVAILABLE"}


@pytest.fixture(scope="module")
def replica(slapd):
    """A slapd of this module's own (killing it disturbs no other test) that the API can
    bind to with the session slapd's credentials, as a second server of LDAP_URI."""
    with helpers.running_slapd() as server:
        server.ldapmodify(
            f"dn: {slapd.accounts.vmailadmin_dn}\nchangetype: modify\nreplace: userPassword\n"
            f"userPassword: {helpers.hash_password(slapd.accounts.vmailadmin_password)}\n")
        yield server


@pytest.fixture
def black_hole():
    """A port that accepts TCP connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def client_of(settings, policy=None):
    return testing.TestClient(create_app(settings, None, policy))


def health(client, cookies=None):
    result = client.simulate_get("/api/health", cookies=cookies)
    return result.status_code, result.json


def wait_for_status(client, status, seconds=15):
    """Seconds until GET /api/health answers `status` (polled every 0.1 s)."""
    started = time.monotonic()
    while health(client)[0] != status:
        assert time.monotonic() - started < seconds, f"no {status} within {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


def by_uri(data):
    """The LDAP servers of a reply by URI, as slapdtest spells it (with a slash)."""
    return {item["uri"] + "/": item for item in data["ldap"]}


def test_all_up_is_200_and_only_a_global_admin_sees_details(client, admin_cookies,
                                                           domain_admin, slapd):
    assert health(client) == (200, {"_success": True})
    normal = session_cookie(login(client, domain_admin))
    assert health(client, normal) == (200, {"_success": True})
    status, body = health(client, admin_cookies)
    assert (status, body["_success"]) == (200, True)
    assert by_uri(body["_data"])[slapd.ldap_uri]["up"] is True
    assert [(d["name"], d["kind"], d["up"]) for d in body["_data"]["databases"]] == [
        (name, "sqlite", True) for name in DATABASES]
    assert all(item["latency_ms"] >= 0 for item in body["_data"]["ldap"])
    assert slapd.accounts.vmailadmin_password not in str(body)
    assert health(client, {helpers.COOKIE_NAME: "forged"}) == (200, {"_success": True})


def test_up_on_each_kind_of_database(make_client, store, admin_cookies):
    client = make_client(policy=store)
    assert health(client) == (200, {"_success": True})
    kinds = {d["kind"] for d in health(client, admin_cookies)[1]["_data"]["databases"]}
    assert len(kinds) == 1 and kinds <= {"sqlite", "mysql", "postgresql"}


def test_gates_apply(make_client):
    assert health(make_client(enable_restful_api=False))[1]["_msg"] == "API_DISABLED"
    restricted = make_client(restrict_api_access=True, restful_api_clients=("192.0.2.1",))
    assert health(restricted)[1]["_msg"] == "NOT_AUTHORIZED"
    result = make_client().simulate_get("/api/health", params={"verbose": "yes"})
    assert result.json["_msg"] == "UNKNOWN_PARAMETER"


def test_the_status_is_real_even_with_always_http_200(base_settings, slapd):
    closed = f"ldap://127.0.0.1:{helpers.free_port()}"
    client = client_of(base_settings.replace(ldap_uri=(closed,), api_always_http_200=True))
    assert health(client) == (503, SHORT_DOWN)
    assert client.simulate_head("/api/health").status_code == 503
    assert client.simulate_get("/api/health", params={"x": "1"}).status_code == 200  # others


def test_a_killed_replica_is_shown_the_host_stays_healthy(base_settings, slapd, replica):
    """The API goes on reading and writing through the server that answers: 200, and the
    details show the replica down."""
    settings = base_settings.replace(ldap_uri=(slapd.ldap_uri, replica.ldap_uri),
                                     health_timeout=TIMEOUT)
    client = client_of(settings)
    acc = slapd.accounts
    cookies = session_cookie(login(client, acc.admin_mail, acc.admin_password))
    replica._proc.kill()
    replica.wait()
    try:
        time.sleep(1.1)  # past the reuse of the last check
        assert health(client) == (200, {"_success": True})
        status, body = health(client, cookies)
        assert status == 200
        ldap = by_uri(body["_data"])
        assert ldap[replica.ldap_uri]["up"] is False and ldap[replica.ldap_uri]["error"]
        assert ldap[slapd.ldap_uri]["up"] is True
    finally:
        replica.resume()


def test_the_only_slapd_killed_is_503_and_no_session_can_be_checked(base_settings, replica):
    acc = replica.accounts
    settings = base_settings.replace(
        ldap_uri=(replica.ldap_uri,), ldap_basedn=acc.domains_dn,
        ldap_admin_basedn=acc.admins_dn, health_timeout=TIMEOUT)
    client = client_of(settings)
    cookies = session_cookie(login(client, acc.admin_mail, acc.admin_password))
    assert health(client, cookies)[1]["_data"]["ldap"][0]["up"] is True
    replica._proc.kill()
    replica.wait()
    try:
        assert wait_for_status(client, 503) < 4
        assert health(client) == (503, SHORT_DOWN)
        assert health(client, cookies) == (503, SHORT_DOWN)  # the session needs slapd
    finally:
        replica.resume()
    assert wait_for_status(client, 200) < 4


def test_a_server_that_never_answers_is_down_in_bounded_time(base_settings, slapd,
                                                             black_hole, admin_cookies):
    silent = f"ldap://127.0.0.1:{black_hole}"
    client = client_of(base_settings.replace(ldap_uri=(silent,), health_timeout=TIMEOUT))
    started = time.monotonic()
    assert health(client) == (503, SHORT_DOWN)
    assert time.monotonic() - started < TIMEOUT + 1.5
    # Beside a server that answers: shown down, in bounded time, the host healthy.
    client = client_of(base_settings.replace(ldap_uri=(slapd.ldap_uri, silent),
                                             health_timeout=TIMEOUT))
    started = time.monotonic()
    status, body = health(client, admin_cookies)
    assert time.monotonic() - started < TIMEOUT + 1.5
    assert status == 200
    assert by_uri(body["_data"])[silent + "/"] == {
        "uri": silent, "up": False, "latency_ms": pytest.approx(TIMEOUT * 1000, rel=0.2),
        "error": f"no answer within {TIMEOUT} s", "leader": False, "lag_ms": None}


def sqlite_store(tmp_path, **others):
    """A policy store on fresh SQLite files (tables made), except the databases
    `others` names, which get those URLs."""
    urls = {name: f"sqlite:///{tmp_path}/{name}.sqlite" for name in DATABASES}
    SqlPolicyStore(urls).create_missing_tables()
    return SqlPolicyStore({**urls, **others})


@pytest.mark.parametrize("scheme", ["mysql+pymysql", "postgresql+psycopg"])
def test_a_database_down_or_silent_is_503_without_credentials(
        base_settings, tmp_path, black_hole, admin_cookies, scheme):
    closed = f"{scheme}://amavisd:S3cretPw@127.0.0.1:{helpers.free_port()}/amavisd"
    silent = f"{scheme}://iredapd:S3cretPw@127.0.0.1:{black_hole}/iredapd"
    store = sqlite_store(tmp_path, amavisd=closed, iredapd=silent)
    client = client_of(base_settings.replace(health_timeout=TIMEOUT), store)
    started = time.monotonic()
    assert health(client) == (503, SHORT_DOWN)
    assert time.monotonic() - started < TIMEOUT + 1.5
    time.sleep(1.1)
    result = client.simulate_get("/api/health", cookies=admin_cookies)
    databases = {d["name"]: d for d in result.json["_data"]["databases"]}
    assert databases["amavisd"]["up"] is False
    assert databases["amavisd"]["location"] == closed.rsplit("@", 1)[1]
    assert databases["iredapd"]["up"] is False
    assert databases["iredadmin"]["up"] is True
    assert "S3cretPw" not in result.text and "amavisd:" not in result.text


@pytest.fixture
def private_mariadb(tmp_path):
    server = MariaDB(tmp_path / "mariadb", helpers.free_port())
    server.start()
    yield server
    server.stop()


def test_a_killed_mariadb_is_503_then_200_when_back(base_settings, tmp_path, private_mariadb,
                                                    admin_cookies):
    with private_mariadb.empty_databases("health") as urls:
        store = sqlite_store(tmp_path, amavisd=urls["amavisd"], iredapd=urls["iredapd"])
        client = client_of(base_settings.replace(health_timeout=TIMEOUT), store)
        assert health(client) == (200, {"_success": True})
        private_mariadb.kill()
        try:
            assert wait_for_status(client, 503) < 4
            assert health(client) == (503, SHORT_DOWN)
            result = client.simulate_get("/api/health", cookies=admin_cookies)
            down = sorted(d["name"] for d in result.json["_data"]["databases"] if not d["up"])
            assert down == ["amavisd", "iredapd"]
            assert private_mariadb.password not in result.text
        finally:
            private_mariadb.start_again()
        assert wait_for_status(client, 200) < 10


# -- iredapi-ldap healthcheck ----------------------------------------------------------


def test_healthcheck_exits_0_when_all_answer(base_settings, tmp_path, slapd):
    (tmp_path / "data").mkdir()
    config = helpers.write_config(tmp_path / "c.yaml", base_settings,
                                  DATA_DIR=str(tmp_path / "data"))
    assert helpers.run_cli("db", "init", "--config", config).returncode == 0
    run = helpers.run_cli("healthcheck", "--config", config)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"ldap {slapd.ldap_uri.rstrip('/')}: up, ")
    assert [line.split(" (")[0] for line in lines[1:4]] == [
        f"database {name}" for name in DATABASES]
    assert lines[-1] == "healthy"


def test_healthcheck_exits_1_when_one_is_down(base_settings, tmp_path, slapd):
    dead = f"ldap://127.0.0.1:{helpers.free_port()}"
    amavisd = f"mysql+pymysql://amavisd:S3cretPw@127.0.0.1:{helpers.free_port()}/amavisd"
    config = helpers.write_config(tmp_path / "c.yaml", base_settings, LDAP_URI=dead,
                                  AMAVISD_DB_URL=amavisd, DATA_DIR=str(tmp_path / "data"))
    started = time.monotonic()
    run = helpers.run_cli("healthcheck", "--config", config)
    assert run.returncode == 1, run.stdout + run.stderr
    assert time.monotonic() - started < 15
    assert f"ldap {dead}: DOWN (unreachable)" in run.stdout
    assert "database amavisd (mysql, 127.0.0.1:" in run.stdout
    assert run.stdout.splitlines()[-1] == "UNHEALTHY"
    assert "S3cretPw" not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("extra, message", [
    ({"NO_SUCH_KEY": "1"}, "NO_SUCH_KEY: unknown setting"),
    ({"AMAVISD_DB_URL": "nosuchdb://amavisd:S3cretPw@h/amavisd"}, "AMAVISD_DB_URL: cannot be"),
    ({"HEALTH_TIMEOUT": "soon"}, "HEALTH_TIMEOUT: expected an integer"),
])
def test_healthcheck_exits_2_for_a_bad_configuration(base_settings, tmp_path, extra, message):
    config = helpers.write_config(tmp_path / "c.yaml", base_settings, **extra)
    run = helpers.run_cli("healthcheck", "--config", config)
    assert run.returncode == 2
    assert message in run.stderr and len(run.stderr.splitlines()) == 1
    assert "S3cretPw" not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_healthcheck_without_a_config_file_is_2(tmp_path):
    run = helpers.run_cli("healthcheck", "--config", str(tmp_path / "missing.yaml"))
    assert run.returncode == 2 and "cannot read config file" in run.stderr
