"""Spam policy endpoints, checked with Amavisd's own policy lookup against the tables."""

import pytest
from sqlalchemy import bindparam, create_engine, text

from iredapi_ldap.policy.accounts import amavisd_lookup_keys

from .. import helpers
from ..helpers import login, reply, session_cookie

# Amavisd's lookup (README.sql): rows for every key of the recipient, most specific first;
# for each field the first non-NULL value wins.
AMAVISD_LOOKUP = ("SELECT *, users.id FROM users LEFT JOIN policy ON users.policy_id=policy.id "
                  "WHERE users.email IN :keys ORDER BY users.priority DESC")


def amavisd_policy(url, recipient, field):
    """The value Amavisd would use for `field` when mail comes for `recipient`."""
    engine = create_engine(url)
    statement = text(AMAVISD_LOOKUP).bindparams(bindparam("keys", expanding=True))
    keys = amavisd_lookup_keys(recipient)
    if engine.dialect.name in ("mysql", "mariadb"):
        keys = [key.encode() for key in keys]
    with engine.connect() as conn:
        rows = conn.execute(statement, {"keys": keys}).mappings().all()
    engine.dispose()
    return next((row[field] for row in rows if row[field] is not None), None)


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


@pytest.fixture
def user(directory, layout, domain):
    mail = f"alice@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    return mail


def put(client, path, cookies, **data):
    return helpers.form(client, "PUT", path, data, cookies=cookies)


def test_every_parameter_round_trips(policy_client, admin, domain):
    path = f"/api/spampolicy/domain/{domain}"
    data = {"bypass_spam_checks": "yes", "bypass_virus_checks": "no",
            "bypass_banned_checks": "yes", "bypass_header_checks": "no",
            "quarantine_spam": "yes", "quarantine_virus": "no", "quarantine_banned": "yes",
            "quarantine_bad_header": "no", "prefix_spam_in_subject": "yes",
            "always_insert_x_spam_headers": "yes", "spam_score": "4.5"}
    assert reply(put(policy_client, path, admin, **data)) == (200, True, None)
    got = policy_client.simulate_get(path, cookies=admin).json["_data"]
    assert got == {**data, "spam_score": 4.5}
    data2 = {"prefix_spam_in_subject": "no", "always_insert_x_spam_headers": "no",
             "spam_score": "6"}
    assert reply(put(policy_client, path, admin, **data2)) == (200, True, None)
    got = policy_client.simulate_get(path, cookies=admin).json["_data"]
    assert got == {**data, **data2, "spam_score": 6}


def test_columns_written(policy_client, admin, store, domain, policy_urls):
    put(policy_client, f"/api/spampolicy/domain/{domain}", admin, quarantine_spam="yes",
        quarantine_virus="no", prefix_spam_in_subject="yes", spam_score="5",
        always_insert_x_spam_headers="yes", bypass_spam_checks="no")
    row = store.get_spam_policy("@" + domain)
    assert (row["spam_quarantine_to"], row["spam_lover"]) == ("spam-quarantine", "N")
    assert (row["virus_quarantine_to"], row["virus_lover"]) == ("", "Y")
    assert row["spam_subject_tag2"] == "[SPAM] " and row["bypass_spam_checks"] == "N"
    assert row["spam_tag2_level"] == row["spam_kill_level"] == 5.0
    assert row["spam_tag_level"] < -100
    assert row["bypass_virus_checks"] is None  # not given: inherits
    engine = create_engine(policy_urls["amavisd"])
    with engine.connect() as conn:
        priority, = conn.execute(text("SELECT priority FROM users WHERE policy_id = "
                                      "(SELECT id FROM policy WHERE policy_name = :n)"),
                                 {"n": "@" + domain}).one()
    engine.dispose()
    assert priority == 5  # Amavisd's scale, as iRedAdmin writes it (policy/accounts.py)


def test_put_changes_only_named_fields_and_empty_inherits(policy_client, admin, store, domain):
    path = f"/api/spampolicy/domain/{domain}"
    put(policy_client, path, admin, bypass_spam_checks="yes", quarantine_spam="yes")
    put(policy_client, path, admin, bypass_virus_checks="yes")
    got = policy_client.simulate_get(path, cookies=admin).json["_data"]
    assert (got["bypass_spam_checks"], got["quarantine_spam"], got["bypass_virus_checks"]) == (
        "yes", "yes", "yes")
    put(policy_client, path, admin, quarantine_spam="", bypass_spam_checks="")
    row = store.get_spam_policy("@" + domain)
    assert row["spam_quarantine_to"] is row["spam_lover"] is row["bypass_spam_checks"] is None
    assert policy_client.simulate_get(path, cookies=admin).json["_data"]["quarantine_spam"] is None


def test_amavisd_lookup_precedence(policy_client, admin, policy_urls, directory, layout,
                                   domain, user):
    url = policy_urls["amavisd"]
    other = f"bob@{domain}"
    helpers.add_mail_user(directory, layout, other)
    outsider = "carol@elsewhere.example"
    put(policy_client, "/api/spampolicy/global", admin, bypass_spam_checks="no",
        spam_score="8")
    put(policy_client, f"/api/spampolicy/domain/{domain}", admin, bypass_spam_checks="yes")
    put(policy_client, f"/api/spampolicy/user/{user}", admin, bypass_spam_checks="no")
    try:
        assert amavisd_policy(url, user, "bypass_spam_checks") == "N"      # the user's
        assert amavisd_policy(url, other, "bypass_spam_checks") == "Y"     # the domain's
        assert amavisd_policy(url, outsider, "bypass_spam_checks") == "N"  # the global one
        assert amavisd_policy(url, user, "spam_tag2_level") == 8.0         # NULL falls through
        assert reply(policy_client.simulate_delete(f"/api/spampolicy/user/{user}",
                                                   cookies=admin)) == (200, True, None)
        assert amavisd_policy(url, user, "bypass_spam_checks") == "Y"      # domain again
        policy_client.simulate_delete(f"/api/spampolicy/domain/{domain}", cookies=admin)
        assert amavisd_policy(url, user, "bypass_spam_checks") == "N"      # global again
    finally:
        policy_client.simulate_delete("/api/spampolicy/global", cookies=admin)
    assert amavisd_policy(url, user, "bypass_spam_checks") is None


def test_delete_removes_rows(policy_client, admin, store, user):
    put(policy_client, f"/api/spampolicy/user/{user}", admin, bypass_spam_checks="yes")
    assert store.get_spam_policy(user) is not None
    policy_client.simulate_delete(f"/api/spampolicy/user/{user}", cookies=admin)
    assert store.get_spam_policy(user) is None
    got = policy_client.simulate_get(f"/api/spampolicy/user/{user}", cookies=admin).json
    assert set(got["_data"].values()) == {None}


@pytest.mark.parametrize("data, code", [
    ({"bypass_spam_checks": "maybe"}, "INVALID_PARAMETER"),
    ({"quarantine_spam": "1"}, "INVALID_PARAMETER"),
    ({"spam_score": "high"}, "INVALID_PARAMETER"),
    ({"spam_score": "nan"}, "INVALID_PARAMETER"),
    ({"spam_score": "1e9"}, "INVALID_PARAMETER"),
    ({"spam_score": "5", "bypass_spam_checks": "'; DROP TABLE policy; --"}, "INVALID_PARAMETER"),
    ({"banned_rulenames": "x"}, "UNKNOWN_PARAMETER"),
    ({}, "MISSING_PARAMETER"),
])
def test_bad_values_change_nothing(policy_client, admin, store, domain, data, code):
    put(policy_client, f"/api/spampolicy/domain/{domain}", admin, bypass_virus_checks="yes")
    before = store.get_spam_policy("@" + domain)
    result = put(policy_client, f"/api/spampolicy/domain/{domain}", admin, **data)
    assert reply(result) == (400, False, code)
    assert store.get_spam_policy("@" + domain) == before


@pytest.mark.parametrize("path, status, code", [
    ("/api/spampolicy/domain/absent-domain.test", 404, "NO_SUCH_DOMAIN"),
    ("/api/spampolicy/user/nobody@example.com", 404, "NO_SUCH_ACCOUNT"),
    ("/api/spampolicy/domain/'%3B DROP TABLE users%3B --", 400, "INVALID_DOMAIN_NAME"),
    ("/api/spampolicy/domain/a)(b.test", 400, "INVALID_DOMAIN_NAME"),
    ("/api/spampolicy/user/a)(b@example.com", 400, "INVALID_MAIL"),
])
def test_unknown_or_hostile_targets(policy_client, admin, path, status, code):
    for result in (policy_client.simulate_get(path, cookies=admin),
                   put(policy_client, path, admin, bypass_spam_checks="yes")):
        assert reply(result) == (status, False, code)


def test_normal_admin_scope(policy_client, domain_admin, domain, user, store):
    cookies = session_cookie(login(policy_client, domain_admin))
    installed = store.get_spam_policy("@.")  # iRedMail's default_spam_policy.sql, or none
    assert reply(put(policy_client, f"/api/spampolicy/domain/{domain}", cookies,
                     bypass_spam_checks="yes")) == (200, True, None)
    assert reply(put(policy_client, f"/api/spampolicy/user/{user}", cookies,
                     bypass_spam_checks="yes")) == (200, True, None)
    for path in ("/api/spampolicy/global", "/api/spampolicy/domain/example.com",
                 "/api/spampolicy/user/postmaster@example.com"):
        assert reply(put(policy_client, path, cookies, bypass_spam_checks="yes")) == (
            403, False, "PERMISSION_DENIED")
        assert reply(policy_client.simulate_get(path, cookies=cookies))[2] == (
            "PERMISSION_DENIED")
    assert store.get_spam_policy("@.") == installed


def test_login_required(policy_client):
    assert reply(policy_client.simulate_get("/api/spampolicy/global")) == (
        401, False, "LOGIN_REQUIRED")
