"""What Dovecot records of mailboxes in iRedAdmin's database (`used_quota`, `last_login`),
on a user's profile and, with `with_usage`, in user listings: on SQLite, PostgreSQL, and
MariaDB with the tables exactly as iRedMail's installer creates them (upstream SQL, with its
trigger that fills used_quota.domain). A listing costs one query per page or batch of 500
users, not one per user."""

import contextlib

import pytest
from sqlalchemy import event, insert, select

from iredapi_ldap.policy.tables import last_login, used_quota

from .. import helpers
from ..helpers import login, reply, session_cookie

pytestmark = pytest.mark.slapd


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


def record(store, quotas=(), logins=()):
    """Rows as Dovecot's quota_clone and last_login plugins write them."""
    with store.databases.engines["iredadmin"].begin() as conn:
        for username, size, messages in quotas:
            conn.execute(insert(used_quota).values(username=username, bytes=size,
                                                   messages=messages))
        for username, times in logins:
            conn.execute(insert(last_login).values(username=username,
                                                   domain=username.split("@")[1], **times))


@contextlib.contextmanager
def usage_queries(store):
    """A list that collects the statements on used_quota/last_login run meanwhile."""
    seen = []
    engine = store.databases.engines["iredadmin"]

    def count(conn, cursor, statement, parameters, context, executemany):
        if "used_quota" in statement or "last_login" in statement:
            seen.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_profile_shows_used_quota_and_last_login(policy_client, store, admin, directory,
                                                 layout, domain):
    users = [f"{name}@{domain}" for name in ("full", "quota", "nothing")]
    for mail in users:
        helpers.add_mail_user(directory, layout, mail)
    record(store, quotas=[(users[0], 123456789012, 42), (users[1], 5, 1)],
           logins=[(users[0], {"imap": 1700000000, "lda": 1700000100})])
    with usage_queries(store) as seen:
        first = policy_client.simulate_get(f"/api/user/{users[0]}", cookies=admin).json
    assert len(seen) == 1
    assert first["_data"]["used_quota"] == {"size": 123456789012, "messages": 42}
    assert first["_data"]["last_login"] == {"imap": 1700000000, "pop3": None,
                                            "lda": 1700000100}
    second = policy_client.simulate_get(f"/api/user/{users[1].upper()}", cookies=admin).json
    assert second["_data"]["used_quota"] == {"size": 5, "messages": 1}
    assert second["_data"]["last_login"] is None
    third = policy_client.simulate_get(f"/api/user/{users[2]}", cookies=admin).json
    assert third["_data"]["used_quota"] == {"size": 0, "messages": 0}
    assert third["_data"]["last_login"] is None


def test_listings_add_usage_on_request_with_one_query_a_page(policy_client, store, admin,
                                                             directory, layout, domain):
    users = sorted(f"u{i}@{domain}" for i in range(7))
    for mail in users:
        helpers.add_mail_user(directory, layout, mail)
    record(store, quotas=[(mail, 1000 + i, i) for i, mail in enumerate(users)],
           logins=[(users[3], {"pop3": 1690000000})])
    path = f"/api/users/{domain}"
    plain = policy_client.simulate_get(path, cookies=admin).json["_data"]
    assert all("used_quota" not in p and "last_login" not in p for p in plain)
    with usage_queries(store) as seen:
        listed = policy_client.simulate_get(path, params={"with_usage": "yes"},
                                            cookies=admin).json["_data"]
    assert len(seen) == 1   # 7 users, one batch: one query
    by_mail = {p["mail"]: p for p in listed}
    for i, mail in enumerate(users):
        assert by_mail[mail]["used_quota"] == {"size": 1000 + i, "messages": i}
        assert by_mail[mail]["last_login"] == ({"imap": None, "pop3": 1690000000, "lda": None}
                                               if i == 3 else None)
    with usage_queries(store) as seen:
        page = policy_client.simulate_get(path, params={"with_usage": "yes", "limit": 3},
                                          cookies=admin).json
    assert len(seen) == 1 and [p["mail"] for p in page["_data"]] == users[:3]
    assert page["_data"][1]["used_quota"] == {"size": 1001, "messages": 1}
    result = policy_client.simulate_get(path, params={"with_usage": "yes", "email_only": "yes"},
                                        cookies=admin)
    assert reply(result) == (400, False, "CONFLICTING_PARAMETERS")


@pytest.mark.parametrize("policy_urls", ["sqlite"], indirect=True)
def test_a_large_listing_costs_one_query_a_batch(policy_client, store, admin, slapd, layout,
                                                 domain):
    from .test_membership_cost import Pipelined
    users = [f"u{i:04d}@{domain}" for i in range(1001)]
    writer = Pipelined(slapd)
    try:
        writer.add((layout.user_dn(mail), {
            "objectClass": ["inetOrgPerson", "mailUser"], "mail": [mail], "cn": ["x"],
            "sn": ["x"], "uid": [mail.split("@")[0]]}) for mail in users)
    finally:
        writer.close()
    record(store, quotas=[(users[-1], 77, 7)])
    path = f"/api/users/{domain}"
    with usage_queries(store) as seen:
        listed = policy_client.simulate_get(path, params={"with_usage": "yes"},
                                            cookies=admin).json["_data"]
    assert len(listed) == 1001 and len(seen) == 3   # batches of 500, 500 and 1
    assert {p["mail"]: p["used_quota"] for p in listed}[users[-1]] == {"size": 77,
                                                                      "messages": 7}
    with usage_queries(store) as seen:
        first = policy_client.simulate_get(path, params={"with_usage": "yes", "limit": 1000},
                                           cookies=admin).json
        rest = policy_client.simulate_get(path, params={"with_usage": "yes",
                                                        "cursor": first["_cursor"]},
                                          cookies=admin).json
    assert len(seen) == 2 and len(first["_data"]) == 1000 and len(rest["_data"]) == 1
    assert rest["_cursor"] is None


def _usage_rows(store):
    with store.databases.engines["iredadmin"].begin() as conn:
        return sorted(str(row.username) for table in (used_quota, last_login)
                      for row in conn.execute(select(table.c.username)))


def test_usage_goes_with_the_account_on_delete_and_rename(policy_client, store, admin,
                                                          directory, layout, domain):
    """A deleted mailbox's rows go (as iRedAdmin drops used_quota's), so that a user made
    later under the address starts with none; a renamed one's move to its new address;
    a deleted domain's go with it."""
    gone, renamed, kept = (f"{name}@{domain}" for name in ("gone", "renamed", "kept"))
    for mail in (gone, renamed, kept):
        helpers.add_mail_user(directory, layout, mail)
    stale = f"new@{domain}"  # left by a mailbox deleted outside the API
    record(store, quotas=[(gone, 10, 1), (renamed, 20, 2), (kept, 30, 3), (stale, 40, 4)],
           logins=[(gone, {"imap": 1}), (renamed, {"pop3": 2})])
    assert reply(policy_client.simulate_delete(f"/api/user/{gone}", cookies=admin))[0] == 200
    assert _usage_rows(store) == sorted([renamed, renamed, kept, stale])
    moved = policy_client.simulate_post(f"/api/user/{renamed}/change_email/{stale}",
                                        cookies=admin)
    assert reply(moved)[0] == 200
    assert _usage_rows(store) == sorted([stale, stale, kept])
    profile = policy_client.simulate_get(f"/api/user/{stale}", cookies=admin).json["_data"]
    assert profile["used_quota"] == {"size": 20, "messages": 2}
    assert profile["last_login"] == {"imap": None, "pop3": 2, "lda": None}
    assert reply(policy_client.simulate_delete(f"/api/domain/{domain}", cookies=admin))[0] \
        == 200
    assert _usage_rows(store) == []
