"""Every successful write leaves one row in iRedAdmin's admin log (`log`), as iRedAdmin-Pro
records it; a refused or failed write leaves none; a password never reaches a row or a log
line; and with LOG_FORMAT json every request is one JSON line naming its id, admin, route,
status and duration."""

import io
import json
import logging

import pytest
from sqlalchemy import create_engine, text

from iredapi_ldap.logformat import JsonFormatter

from .. import helpers, servers
from ..helpers import form, login, reply, session_cookie

SECRET = "Audit-Secr3t-Pw!x9"  # the password of the user made: must never be logged
COLUMNS = "admin, ip, domain, username, event, loglevel, msg"


# The admin log as iRedMail's installer creates it on MariaDB, and as the store creates it
# on SQLite.
@pytest.fixture(params=["sqlite", "mariadb"])
def policy_urls(request, tmp_path):
    if request.param == "sqlite":
        yield {name: f"sqlite:///{tmp_path / name}.sqlite"
               for name in ("amavisd", "iredapd", "iredadmin")}
        return
    server = request.getfixturevalue("mariadb")
    yield server.pristine_iredmail_databases("test", helpers.reference_dir() / "upstream-sql")


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


def sql(urls, statement, **values):
    engine = create_engine(urls["iredadmin"])
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else None
    finally:
        engine.dispose()


def last_id(urls):
    return sql(urls, "SELECT COALESCE(MAX(id), 0) FROM log")[0][0]


def rows_after(urls, row_id):
    """The admin log's rows written after row `row_id` but the logins, oldest first."""
    return sql(urls, f"SELECT {COLUMNS} FROM log WHERE id > :id AND event <> 'login' "
                     "ORDER BY id", id=row_id)


def test_three_writes_are_three_rows_as_iredadmin_records_them(
        policy_client, admin, policy_urls, accounts, domain):
    alias, mail = f"team@{domain}", f"new@{domain}"
    assert reply(form(policy_client, "POST", f"/api/alias/{alias}", {"name": "Team"},
                      cookies=admin)) == (200, True, None)
    start = last_id(policy_urls)
    client = {"remote_addr": "192.0.2.7"}
    assert reply(form(policy_client, "POST", f"/api/user/{mail}",
                      {"password": SECRET, "name": "New"}, cookies=admin, **client)) == (
        200, True, None)
    assert reply(form(policy_client, "PUT", f"/api/domain/{domain}",
                      {"name": "Audited", "numberOfUsers": "20"}, cookies=admin,
                      **client)) == (200, True, None)
    assert reply(policy_client.simulate_delete(f"/api/alias/{alias}", cookies=admin,
                                               **client)) == (200, True, None)
    admin_mail = accounts.admin_mail
    assert rows_after(policy_urls, start) == [
        (admin_mail, "192.0.2.7", domain, mail, "create", "info",
         f"[API] Create user: {mail} (name, password)."),
        (admin_mail, "192.0.2.7", domain, "", "update", "info",
         f"[API] Update domain: {domain} (name, numberOfUsers)."),
        (admin_mail, "192.0.2.7", domain, alias, "delete", "info",
         f"[API] Delete alias: {alias}."),
    ]
    every = sql(policy_urls, "SELECT admin, ip, domain, username, event, msg FROM log")
    assert every and not any(SECRET in str(value) for row in every for value in row)


def test_status_changes_are_active_and_disable_events(policy_client, admin, policy_urls,
                                                      directory, layout, domain):
    mail = f"someone@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    start = last_id(policy_urls)
    for status in ("disabled", "active"):
        assert reply(form(policy_client, "PUT", f"/api/user/{mail}",
                          {"accountStatus": status}, cookies=admin)) == (200, True, None)
    assert [row[2:5] + row[6:] for row in rows_after(policy_urls, start)] == [
        (domain, mail, "disable", f"[API] Disable user: {mail} (accountStatus)."),
        (domain, mail, "active", f"[API] Activate user: {mail} (accountStatus)."),
    ]


def test_a_refused_or_failed_write_records_nothing(make_client, policy_client, admin, store,
                                                   policy_urls, directory, layout, domain,
                                                   domain_admin):
    start = last_id(policy_urls)
    other = f"t-elsewhere-{domain}"
    normal = session_cookie(login(policy_client, domain_admin))
    refused = (
        # not logged in; outside the admin's domains; a bad parameter; exists already
        form(policy_client, "POST", f"/api/user/a@{domain}", {"password": SECRET}),
        form(policy_client, "POST", f"/api/user/a@{other}", {"password": SECRET},
             cookies=normal),
        form(policy_client, "PUT", f"/api/domain/{domain}", {"nosuch": "1"}, cookies=admin),
        form(policy_client, "POST", f"/api/domain/{domain}", {"name": "Again"},
             cookies=admin),
        form(policy_client, "POST", f"/api/user/b@{domain}", {"password": "short"},
             cookies=admin),
    )
    assert [r.status_code for r in refused] == [401, 403, 400, 409, 400]
    # A write the directory refused to do (slapd unreachable): nothing was done
    helpers.add_mail_user(directory, layout, f"stays@{domain}")
    down = make_client(directory=helpers.Refusing(directory, "delete"), policy=store)
    assert reply(down.simulate_delete(f"/api/user/stays@{domain}", cookies=admin)) == (
        503, False, "DIRECTORY_UNAVAILABLE")
    # Errors answered with HTTP 200 are errors still
    always_200 = make_client(policy=store, api_always_http_200=True)
    assert reply(form(always_200, "PUT", f"/api/domain/{domain}", {"nosuch": "1"},
                      cookies=admin)) == (200, False, "UNKNOWN_PARAMETER")
    assert rows_after(policy_urls, start) == []


def test_an_admin_log_that_cannot_be_written_does_not_fail_the_write(
        policy_client, admin, policy_urls, directory, layout, domain, caplog):
    sql(policy_urls, "DROP TABLE log")  # the admin log is gone; the rest is fine
    mail = f"kept@{domain}"
    with caplog.at_level(logging.WARNING, logger="iredapi_ldap.http.audit"):
        assert reply(form(policy_client, "POST", f"/api/user/{mail}", {"password": SECRET},
                          cookies=admin)) == (200, True, None)
    assert directory.get(layout.user_dn(mail)) is not None
    warning, = [r for r in caplog.records if r.name == "iredapi_ldap.http.audit"]
    assert warning.levelno == logging.WARNING and "not recorded" in warning.getMessage()
    assert mail in warning.getMessage() and SECRET not in warning.getMessage()


def test_the_client_behind_a_trusted_proxy_is_recorded(make_client, store, policy_urls,
                                                       accounts, domain, standalone):
    client = make_client(policy=store, trusted_proxies=("127.0.0.1",))
    forwarded = {"X-Forwarded-For": "198.51.100.4, 2001:db8::1"}
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password,
                                   headers=forwarded))
    start = last_id(policy_urls)
    assert reply(form(client, "PUT", f"/api/domain/admins/{domain}",
                      {"addAdmin": standalone(global_admin=False)}, cookies=cookies,
                      headers=forwarded)) == (200, True, None)
    (row,) = rows_after(policy_urls, start)
    assert row[1:5] == ("2001:0db8:0000:0000:0000:0000:0000:0001", domain, "", "grant")


@pytest.fixture
def json_lines():
    """The JSON lines the app logs while a test runs (as LOG_FORMAT json writes them)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_json_lines_carry_request_id_admin_route_status_and_duration(
        make_client, store, accounts, domain, json_lines):
    client = make_client(policy=store, log_format="json")
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    result = form(client, "POST", f"/api/user/json@{domain}", {"password": SECRET},
                  cookies=cookies)
    assert reply(result) == (200, True, None)
    refused = form(client, "POST", f"/api/user/json@{domain}", {"password": SECRET},
                   cookies=cookies)
    assert reply(refused) == (409, False, "ALREADY_EXISTS")
    lines = json_lines()
    assert not any(SECRET in json.dumps(line) for line in lines)
    requests = [line for line in lines if line["logger"] == "iredapi_ldap.requests"]
    login_line, created, again = requests
    assert login_line["route"] == "/api/login" and "admin" not in login_line
    assert created["request_id"] == result.headers["X-Request-Id"]
    assert len({line["request_id"] for line in requests}) == 3
    assert {k: created[k] for k in ("admin", "method", "route", "status", "level")} == {
        "admin": accounts.admin_mail, "method": "POST", "route": "/api/user/{mail}",
        "status": 200, "level": "INFO"}
    assert isinstance(created["duration_ms"], float) and created["duration_ms"] >= 0
    assert (again["status"], again["code"]) == (409, "ALREADY_EXISTS")
    # a line the app writes while serving a request names that request
    login_ok, = [line for line in lines if line["message"].startswith("login ok")]
    assert login_ok["request_id"] == login_line["request_id"]


def test_serve_writes_json_lines(slapd, ldap_client, tmp_path, domain):
    acc = slapd.accounts
    with servers.serving(slapd, tmp_path, workers=1, LDAP_CLIENT=ldap_client,
                         LOG_FORMAT="json") as base:
        cookie = servers.login(base, acc.admin_mail, acc.admin_password)
        assert servers.outcome(servers.call(base, "POST", f"/api/user/serve@{domain}",
                                            {"password": SECRET}, cookie=cookie)) == (
            200, True, None)
    log = (tmp_path / "serve.log").read_text()
    assert SECRET not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    created, = [line for line in lines if line.get("route") == "/api/user/{mail}"]
    assert (created["admin"], created["method"], created["status"]) == (
        acc.admin_mail, "POST", 200)
    assert len(created["request_id"]) == 32 and created["duration_ms"] >= 0
