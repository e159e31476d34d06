"""Throttling and greylisting endpoints, checked in iRedAPD's tables."""

import pytest
from sqlalchemy import create_engine, text

from .. import helpers
from ..helpers import login, reply, session_cookie


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


@pytest.fixture
def user(directory, layout, domain):
    mail = f"o'brien@{domain}"  # a quote is valid in an address and must be stored literally
    helpers.add_mail_user(directory, layout, mail)
    return mail


def post(client, path, cookies, **data):
    return helpers.form(client, "POST", path, data, cookies=cookies)


def rows(url, sql, **params):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [tuple(row) for row in conn.execute(text(sql), params)]
    engine.dispose()
    return found


# -- throttling -------------------------------------------------------------------------


def test_throttle_per_target_and_direction(policy_client, admin, policy_urls, domain, user):
    cases = [("global", "@.", 0), (domain, "@" + domain, 60), (user, user, 100)]
    try:
        for target, account, priority in cases:
            for kind in ("inbound", "outbound"):
                path = f"/api/throttle/{target}/{kind}"
                result = post(policy_client, path, admin, period="3600", max_msgs="20",
                              msg_size="10485760")
                assert reply(result) == (200, True, None)
                got = policy_client.simulate_get(path, cookies=admin).json["_data"]
                assert got == {"period": 3600, "msg_size": 10485760, "max_msgs": 20,
                               "max_quota": -1}
                assert rows(policy_urls["iredapd"],
                            "SELECT priority, period, max_msgs, max_quota, max_rcpts "
                            "FROM throttle WHERE account = :a AND kind = :k",
                            a=account, k=kind) == [(priority, 3600, 20, -1, -1)]
    finally:
        for kind in ("inbound", "outbound"):
            policy_client.simulate_delete(f"/api/throttle/global/{kind}", cookies=admin)


def test_throttle_changes_only_given_limits(policy_client, admin, domain):
    path = f"/api/throttle/{domain}/outbound"
    post(policy_client, path, admin, period="60", max_msgs="5", max_quota="1000")
    post(policy_client, path, admin, period="120", msg_size="0")
    assert policy_client.simulate_get(path, cookies=admin).json["_data"] == {
        "period": 120, "msg_size": 0, "max_msgs": 5, "max_quota": 1000}
    assert reply(policy_client.simulate_delete(path, cookies=admin)) == (200, True, None)
    assert policy_client.simulate_get(path, cookies=admin).json["_data"] == {}


def test_throttle_with_only_period(policy_client, admin, policy_urls, domain, user):
    """`period` is the only required parameter: a new setting's limits are -1 (iRedAPD:
    ask the next setting), an existing one's stay."""
    path = f"/api/throttle/{user}/inbound"
    assert reply(post(policy_client, path, admin, period="600")) == (200, True, None)
    assert rows(policy_urls["iredapd"],
                "SELECT priority, period, msg_size, max_msgs, max_quota FROM throttle "
                "WHERE account = :a AND kind = 'inbound'", a=user) == [(100, 600, -1, -1, -1)]
    post(policy_client, path, admin, period="60", max_msgs="9")
    assert reply(post(policy_client, path, admin, period="86400")) == (200, True, None)
    assert policy_client.simulate_get(path, cookies=admin).json["_data"] == {
        "period": 86400, "msg_size": -1, "max_msgs": 9, "max_quota": -1}


@pytest.mark.parametrize("target", ["nobody@{domain}", "absent-domain.test", "global"])
def test_throttle_checks_period_before_the_target(policy_client, admin, store, domain,
                                                  target):
    """A bad period is INVALID_PARAMETER, whatever the target; then an unknown one is
    NO_SUCH_ACCOUNT (NO_SUCH_DOMAIN)."""
    target = target.format(domain=domain)
    path = f"/api/throttle/{target}/outbound"
    key = "@." if target == "global" else target
    before = store.get_throttle(key, "outbound")
    for period in ("0", "x", "-5", str(2**32)):
        assert reply(post(policy_client, path, admin, period=period)) == (
            400, False, "INVALID_PARAMETER")
    absent = {"global": None, "absent-domain.test": "NO_SUCH_DOMAIN"}
    expected = absent.get(target, "NO_SUCH_ACCOUNT")
    if expected:
        assert reply(post(policy_client, path, admin, period="60")) == (404, False, expected)
    assert store.get_throttle(key, "outbound") == before


@pytest.mark.parametrize("data, code", [
    ({"max_msgs": "10"}, "MISSING_PARAMETER"),
    ({"period": "", "max_msgs": "10"}, "MISSING_PARAMETER"),
    ({"period": " "}, "MISSING_PARAMETER"),
    ({"period": "abc", "max_msgs": "10"}, "INVALID_PARAMETER"),
    ({"period": "0", "max_msgs": "10"}, "INVALID_PARAMETER"),
    ({"period": "60", "max_msgs": "-1"}, "INVALID_PARAMETER"),
    ({"period": "60", "max_msgs": "1.5"}, "INVALID_PARAMETER"),
    ({"period": "60", "max_msgs": "²"}, "INVALID_PARAMETER"),
    ({"period": "60", "max_quota": str(2**63)}, "INVALID_PARAMETER"),
    ({"period": str(2**32), "max_msgs": "1"}, "INVALID_PARAMETER"),
    ({"period": "60", "max_msgs": "1; DELETE FROM throttle"}, "INVALID_PARAMETER"),
    ({"period": "60", "max_rcpts": "1"}, "UNKNOWN_PARAMETER"),
])
def test_bad_throttle_input_changes_nothing(policy_client, admin, store, domain, data, code):
    path = f"/api/throttle/{domain}/inbound"
    post(policy_client, path, admin, period="60", max_msgs="7")
    before = store.get_throttle("@" + domain, "inbound")
    assert reply(post(policy_client, path, admin, **data)) == (400, False, code)
    assert store.get_throttle("@" + domain, "inbound") == before


def test_throttle_unknown_targets(policy_client, admin):
    assert reply(policy_client.simulate_get("/api/throttle/absent-domain.test/inbound",
                                            cookies=admin)) == (404, False, "NO_SUCH_DOMAIN")
    assert reply(policy_client.simulate_get("/api/throttle/nobody@example.com/inbound",
                                            cookies=admin)) == (404, False, "NO_SUCH_ACCOUNT")
    assert reply(policy_client.simulate_get("/api/throttle/global/sideways",
                                            cookies=admin)) == (404, False, "NOT_FOUND")


# -- greylisting ------------------------------------------------------------------------


def test_greylisting_status_per_target(policy_client, admin, policy_urls, domain, user):
    cases = [("global", "@.", 0), (domain, "@" + domain, 60), (user, user, 100)]
    # iRedMail's installer enables greylisting globally (enable_global_greylisting.sql).
    installed = rows(policy_urls["iredapd"], "SELECT active FROM greylisting WHERE "
                     "account = '@.'")
    try:
        for target, account, priority in cases:
            path = f"/api/greylisting/{target}"
            initially = "enable" if account == "@." and installed == [(1,)] else None
            assert policy_client.simulate_get(path, cookies=admin).json["_data"] == {
                "status": initially}
            for status, active in (("disable", 0), ("enable", 1)):
                assert reply(post(policy_client, path, admin, status=status)) == (
                    200, True, None)
                assert policy_client.simulate_get(path, cookies=admin).json["_data"] == {
                    "status": status}
                assert rows(policy_urls["iredapd"],
                            "SELECT priority, sender, sender_priority, active FROM greylisting "
                            "WHERE account = :a", a=account) == [(priority, "@.", 0, active)]
        listed = policy_client.simulate_get("/api/greylisting/all", cookies=admin).json["_data"]
        assert {(row["account"], row["status"]) for row in listed} >= {
            ("@.", "enable"), ("@" + domain, "enable"), (user, "enable")}
        policy_client.simulate_delete(f"/api/greylisting/{user}", cookies=admin)
        assert policy_client.simulate_get(f"/api/greylisting/{user}",
                                          cookies=admin).json["_data"] == {"status": None}
    finally:
        policy_client.simulate_delete("/api/greylisting/global", cookies=admin)


@pytest.mark.parametrize("data, code", [({}, "MISSING_PARAMETER"),
                                        ({"status": "on"}, "INVALID_PARAMETER"),
                                        ({"status": "enable", "x": "1"}, "UNKNOWN_PARAMETER")])
def test_bad_greylisting_status(policy_client, admin, store, domain, data, code):
    assert reply(post(policy_client, f"/api/greylisting/{domain}", admin, **data)) == (
        400, False, code)
    assert store.get_greylisting("@" + domain) is None


def test_whitelists(policy_client, admin, policy_urls, domain):
    path = f"/api/greylisting/{domain}/whitelists"
    senders = ["192.0.2.10", "198.51.100.0/24", "2001:db8::1", "2001:db8::/32",
               "user@example.org", "@example.net", "@.example.com"]
    result = post(policy_client, path, admin, senders=",".join(senders))
    assert reply(result) == (200, True, None)
    assert policy_client.simulate_get(path, cookies=admin).json["_data"] == sorted(senders)
    post(policy_client, path, admin, addSenders="203.0.113.5, @Example.ORG",
         removeSenders="192.0.2.10")
    expected = sorted(set(senders) - {"192.0.2.10"} | {"203.0.113.5", "@example.org"})
    assert policy_client.simulate_get(path, cookies=admin).json["_data"] == expected
    assert sorted(r[0] for r in rows(policy_urls["iredapd"],
                                     "SELECT sender FROM greylisting_whitelists "
                                     "WHERE account = :a", a="@" + domain)) == expected
    post(policy_client, path, admin, senders="")
    assert policy_client.simulate_get(path, cookies=admin).json["_data"] == []


@pytest.mark.parametrize("data, code", [
    ({"senders": "a", "addSenders": "192.0.2.1"}, "CONFLICTING_PARAMETERS"),
    ({"senders": "not-an-address"}, "INVALID_SENDER"),
    ({"addSenders": "192.0.2.300"}, "INVALID_SENDER"),
    ({"addSenders": "@."}, "INVALID_SENDER"),
    ({"addSenders": "@x.test'); DROP TABLE greylisting_whitelists; --"}, "INVALID_SENDER"),
    ({"addSenders": "192.0.2.1, *"}, "INVALID_SENDER"),
    ({}, "MISSING_PARAMETER"),
])
def test_bad_whitelist_input_changes_nothing(policy_client, admin, store, domain, data, code):
    path = f"/api/greylisting/{domain}/whitelists"
    post(policy_client, path, admin, senders="192.0.2.99")
    assert reply(post(policy_client, path, admin, **data)) == (400, False, code)
    assert store.greylisting_whitelists("@" + domain) == ["192.0.2.99"]


def test_whitelist_spf_domains(policy_client, admin, store):
    path = "/api/greylisting/whitelist_spf_domains"
    try:
        post(policy_client, path, admin, domains="gmail.com,iredmail.org")
        post(policy_client, path, admin, addDomains="outlook.com", removeDomains="gmail.com")
        assert policy_client.simulate_get(path, cookies=admin).json["_data"] == [
            "iredmail.org", "outlook.com"]
        assert reply(post(policy_client, path, admin, addDomains="not a domain")) == (
            400, False, "INVALID_DOMAIN_NAME")
        assert reply(post(policy_client, path, admin, domains="a.com",
                          removeDomains="b.com")) == (400, False, "CONFLICTING_PARAMETERS")
        assert store.whitelist_spf_domains() == ["iredmail.org", "outlook.com"]
    finally:
        post(policy_client, path, admin, domains="")


def test_normal_admin_scope(policy_client, domain_admin, domain, store):
    cookies = session_cookie(login(policy_client, domain_admin))
    assert reply(post(policy_client, f"/api/greylisting/{domain}", cookies,
                      status="disable")) == (200, True, None)
    assert reply(post(policy_client, f"/api/throttle/{domain}/inbound", cookies,
                      period="60", max_msgs="1")) == (200, True, None)
    store.set_greylisting("@example.com", False)  # another domain's setting
    listed = policy_client.simulate_get("/api/greylisting/all", cookies=cookies).json
    assert [row["account"] for row in listed["_data"]] == ["@" + domain]
    for method, path, data in (
            ("POST", "/api/greylisting/global", {"status": "enable"}),
            ("POST", "/api/greylisting/example.com", {"status": "enable"}),
            ("POST", "/api/greylisting/example.com/whitelists", {"senders": "192.0.2.1"}),
            ("POST", "/api/throttle/global/inbound", {"period": "1", "max_msgs": "1"}),
            ("GET", "/api/greylisting/whitelist_spf_domains", {}),
            ("POST", "/api/greylisting/whitelist_spf_domains", {"domains": "a.com"})):
        result = helpers.form(policy_client, method, path, data, cookies=cookies)
        assert reply(result) == (403, False, "PERMISSION_DENIED"), path
