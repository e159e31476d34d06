"""HTTP conventions: envelope, 404/405, the API switch, the client allow-list, HTTP 200 mode,
request bodies, and GET /api/domains."""

import pytest

from .. import helpers
from ..bulk import Pipelined
from ..helpers import login, reply, session_cookie


def test_unknown_url_is_a_json_404(client):
    for path in ("/api/nope", "/", "/api/domain/example.com/nonsense/deeper"):
        result = client.simulate_get(path)
        assert reply(result) == (404, False, "NOT_FOUND")
        assert result.headers["content-type"].startswith("application/json")


def test_wrong_method_is_a_json_405(client):
    result = client.simulate_delete("/api/logout")
    assert reply(result) == (405, False, "METHOD_NOT_ALLOWED")


def test_api_disabled(make_client, accounts):
    client = make_client(enable_restful_api=False)
    for result in (login(client, accounts.admin_mail, accounts.admin_password),
                   client.simulate_get("/api/domains"), client.simulate_get("/api/nope")):
        assert reply(result) == (403, False, "API_DISABLED")


@pytest.mark.parametrize("remote_addr, allowed", [
    ("192.0.2.10", True), ("192.0.2.11", False), ("10.1.200.3", True), ("10.2.0.1", False),
    ("2001:db8::1", True), ("2001:db9::1", False), ("::ffff:192.0.2.10", True),
    ("127.0.0.1", False),
])
def test_client_allow_list(make_client, accounts, remote_addr, allowed):
    client = make_client(restrict_api_access=True,
                         restful_api_clients=("192.0.2.10", "10.1.0.0/16", "2001:db8::/32"))
    result = login(client, accounts.admin_mail, accounts.admin_password, remote_addr=remote_addr)
    expected = (200, True, None) if allowed else (403, False, "NOT_AUTHORIZED")
    assert reply(result) == expected


def test_allow_list_off_by_default(make_client, accounts):
    client = make_client(restful_api_clients=("192.0.2.10",))
    assert reply(login(client, accounts.admin_mail, accounts.admin_password,
                       remote_addr="198.51.100.1")) == (200, True, None)


def test_always_http_200(make_client, accounts):
    client = make_client(api_always_http_200=True)
    assert reply(client.simulate_get("/api/nope")) == (200, False, "NOT_FOUND")
    assert reply(client.simulate_get("/api/domains")) == (200, False, "LOGIN_REQUIRED")
    assert reply(login(client, accounts.admin_mail, "Wrong-pass1!")) == (
        200, False, "INVALID_CREDENTIALS")


def test_body_limits_and_duplicates(client):
    result = helpers.form(client, "POST", "/api/login", {"username": "a" * (1024 * 1024 + 1)})
    assert reply(result) == (413, False, "REQUEST_TOO_LARGE")
    result = client.simulate_post(
        "/api/login", body="username=a@example.com&username=b@example.com&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply(result)[:2] == (400, False) and "more than once" in result.json["_detail"]
    for body in ("[1, 2]", "{not json", '{"username": {"a": 1}}'):
        result = client.simulate_post("/api/login", body=body,
                                      headers={"Content-Type": "application/json"})
        assert reply(result) == (400, False, "INVALID_PARAMETER")
    result = client.simulate_post("/api/login", body=b"username=\xff",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply(result) == (400, False, "INVALID_PARAMETER")


def test_list_domains(client, admin_cookies, directory, layout, domain):
    names = client.simulate_get("/api/domains", params={"name_only": "yes"},
                                cookies=admin_cookies).json["_data"]
    assert domain in names and "example.com" in names
    profiles = client.simulate_get("/api/domains", cookies=admin_cookies).json["_data"]
    mine = next(p for p in profiles if p["domainName"] == domain)
    assert mine["accountStatus"] == "active" and mine["enabledService"] == ["mail"]
    assert mine["accountSetting"] == {"minPasswordLength": 8, "defaultQuota": 1024}

    assert domain not in client.simulate_get(
        "/api/domains", params={"name_only": "yes", "disabled_only": "yes"},
        cookies=admin_cookies).json["_data"]
    directory.modify(layout.domain_dn(domain), [helpers.replace("accountStatus", "disabled")])
    assert domain in client.simulate_get(
        "/api/domains", params={"name_only": "yes", "disabled_only": "yes"},
        cookies=admin_cookies).json["_data"]


@pytest.mark.parametrize("params, code", [({"name_only": "maybe"}, "INVALID_PARAMETER"),
                                          ({"bogus": "1"}, "UNKNOWN_PARAMETER")])
def test_list_domains_bad_parameters(client, admin_cookies, params, code):
    result = client.simulate_get("/api/domains", params=params, cookies=admin_cookies)
    assert reply(result) == (400, False, code)


def test_list_domains_pages_through_many(client, admin_cookies, slapd, layout):
    names = [f"t-many-{i:04d}.test" for i in range(5000)]  # ten 500-entry pages
    bulk = Pipelined(slapd)  # setup, not what is tested: fast, on a connection of its own
    bulk.add((layout.domain_dn(name), {"objectClass": ["mailDomain"], "domainName": [name],
                                       "accountStatus": ["active"]}) for name in names)
    try:
        listed = client.simulate_get("/api/domains", params={"name_only": "yes"},
                                     cookies=admin_cookies).json["_data"]
        assert set(names) <= set(listed) and len(listed) == len(set(listed))
    finally:
        bulk.delete(layout.domain_dn(name) for name in names)
        bulk.close()


def test_admin_of_no_domain_lists_nothing(client, directory, layout):
    mail = "lonely@admins.example.net"
    helpers.add_admin(directory, layout, mail)
    try:
        result = client.simulate_get("/api/domains",
                                     cookies=session_cookie(login(client, mail)))
        assert result.json == {"_success": True, "_data": []}
    finally:
        directory.delete(layout.admin_dn(mail))
