"""An account's policy rows follow it: renamed with it, removed with it (and with its
domain), so a later account under the same address inherits nothing."""

import time

import pytest
from sqlalchemy import create_engine, text

from iredapi_ldap.policy.store import SqlPolicyStore

from .. import helpers
from ..helpers import login, reply, session_cookie

TABLES = {"amavisd": (("users", "email"), ("policy", "policy_name")),
          "iredapd": (("throttle", "account"), ("greylisting", "account"),
                      ("greylisting_whitelists", "account"))}


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


def rows_of(urls, address):
    """{table: number of rows} of `address` in the policy tables."""
    found = {}
    for database, tables in TABLES.items():
        engine = create_engine(urls[database])
        with engine.connect() as conn:
            for table, column in tables:
                found[table] = conn.execute(
                    text(f"SELECT COUNT(*) FROM {table} WHERE {column} = :a"),
                    {"a": address}).scalar()
        engine.dispose()
    return found


def give_policies(client, cookies, target):
    """A spam policy, both throttles, a greylisting setting and a whitelist for `target`
    (`user@domain`, or `@domain` for a domain)."""
    name = target.lstrip("@")
    kind = "domain" if target.startswith("@") else "user"
    for method, path, data in (
            ("PUT", f"/api/spampolicy/{kind}/{name}", {"bypass_spam_checks": "yes"}),
            ("POST", f"/api/throttle/{name}/outbound", {"period": "60", "max_msgs": "9"}),
            ("POST", f"/api/throttle/{name}/inbound", {"period": "60", "max_msgs": "8"}),
            ("POST", f"/api/greylisting/{name}", {"status": "disable"}),
            ("POST", f"/api/greylisting/{name}/whitelists", {"senders": "192.0.2.1"})):
        assert reply(helpers.form(client, method, path, data, cookies=cookies)) == (
            200, True, None), path


ALL = {"users": 1, "policy": 1, "throttle": 2, "greylisting": 1, "greylisting_whitelists": 1}
NONE = dict.fromkeys(ALL, 0)


def test_rename_moves_and_delete_removes_a_users_policies(policy_client, admin, policy_urls,
                                                          store, directory, layout, domain):
    old, new = f"before@{domain}", f"after@{domain}"
    helpers.add_mail_user(directory, layout, old)
    give_policies(policy_client, admin, old)
    store.set_throttle(new, "outbound", {"max_msgs": 1})  # left by an account deleted before
    assert rows_of(policy_urls, old) == ALL
    result = policy_client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (200, True, None)
    assert rows_of(policy_urls, old) == NONE and rows_of(policy_urls, new) == ALL
    assert store.get_throttle(new, "outbound")["max_msgs"] == 9  # the renamed user's own
    assert reply(policy_client.simulate_delete(f"/api/user/{new}", cookies=admin)) == (
        200, True, None)
    assert rows_of(policy_urls, new) == NONE


def test_a_rename_cut_short_by_the_policy_database_is_finished_by_its_repeat(
        make_client, admin, policy_client, policy_urls, directory, layout, domain, tmp_path):
    old, new = f"before@{domain}", f"after@{domain}"
    helpers.add_mail_user(directory, layout, old)
    give_policies(policy_client, admin, old)
    # iRedAPD's database is unreachable; Amavisd's (moved first) and iRedAdmin's are not.
    broken = SqlPolicyStore({**policy_urls,
                             "iredapd": f"sqlite:///{tmp_path}/missing/iredapd.db"})
    client = make_client(policy=broken)
    result = client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (503, False, "DATABASE_UNAVAILABLE")
    # The directory committed (the rename, and uid after it); Amavisd's rows moved,
    # iRedAPD's could not, and the intent to finish is recorded.
    assert directory.get(layout.user_dn(old)) is None
    assert directory.get(layout.user_dn(new)).first("uid") == "after"
    amavisd = {"users", "policy"}
    assert rows_of(policy_urls, new) == {t: n if t in amavisd else 0 for t, n in ALL.items()}
    assert rows_of(policy_urls, old) == {t: 0 if t in amavisd else n for t, n in ALL.items()}
    result = policy_client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (200, True, None)  # the repeat finishes it
    assert rows_of(policy_urls, old) == NONE and rows_of(policy_urls, new) == ALL
    result = policy_client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (404, False, "NO_SUCH_ACCOUNT")  # nothing left to finish


def test_a_rename_the_directory_refuses_leaves_the_policies_in_place(
        make_client, admin, policy_client, store, policy_urls, directory, layout, domain):
    old, new = f"before@{domain}", f"after@{domain}"
    helpers.add_mail_user(directory, layout, old)
    give_policies(policy_client, admin, old)
    client = make_client(directory=helpers.Refusing(directory, "rename"), policy=store)
    result = client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (503, False, "DIRECTORY_UNAVAILABLE")
    assert directory.get(layout.user_dn(old)) is not None
    assert rows_of(policy_urls, old) == ALL and rows_of(policy_urls, new) == NONE
    result = policy_client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (409, False, "CONCURRENT_UPDATE")  # slapd may still do it
    patient = make_client(policy=store, ldap_timeout=1)  # it may for LDAP_TIMEOUT seconds
    time.sleep(1.1)
    result = patient.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (200, True, None)  # tried again, it happens, whole
    assert rows_of(policy_urls, old) == NONE and rows_of(policy_urls, new) == ALL


def test_domain_delete_removes_the_policies_of_the_domain_and_its_users(
        policy_client, admin, policy_urls, directory, layout, domain):
    mail = f"someone@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    give_policies(policy_client, admin, mail)
    give_policies(policy_client, admin, "@" + domain)
    other = f"keep-{domain}"  # another domain's rows stay
    helpers.add_domain(directory, layout, other)
    try:
        give_policies(policy_client, admin, "@" + other)
        assert reply(policy_client.simulate_delete(f"/api/domain/{domain}", cookies=admin)) \
            == (200, True, None)
        assert rows_of(policy_urls, mail) == NONE
        assert rows_of(policy_urls, "@" + domain) == NONE
        assert rows_of(policy_urls, "@" + other) == ALL
    finally:
        helpers.add_domain(directory, layout, domain)  # for the fixture's own cleanup
        directory.delete(layout.domain_dn(other), subtree=True)
