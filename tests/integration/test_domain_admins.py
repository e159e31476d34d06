"""Domain admins, normal admins' scope, and the creation limits of admins."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from .. import helpers
from ..helpers import form, login, reply, session_cookie


def put_admins(client, cookies, domain, **data):
    return form(client, "PUT", f"/api/domain/admins/{domain}", data, cookies=cookies)


def admins_of(client, cookies, domain):
    return client.simulate_get(f"/api/domain/admins/{domain}", cookies=cookies).json["_data"]


def test_add_and_remove_admins(client, admin_cookies, domain, directory, layout):
    user = f"helper@{domain}"
    helpers.add_mail_user(directory, layout, user)
    standalone = f"adm-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, standalone)
    try:
        assert reply(put_admins(client, admin_cookies, domain,
                                addAdmin=f"{user},{standalone}")) == (200, True, None)
        assert admins_of(client, admin_cookies, domain) == sorted([user, standalone])
        assert directory.get(layout.user_dn(user)).has_value("enabledService", "domainadmin")
        assert reply(login(client, user)) == (200, True, None)  # can log in now
        put_admins(client, admin_cookies, domain, removeAdmin=user)
        assert admins_of(client, admin_cookies, domain) == [standalone]
        assert not directory.get(layout.user_dn(user)).has_value("enabledService", "domainadmin")
        assert reply(login(client, user)) == (403, False, "PERMISSION_DENIED")
        put_admins(client, admin_cookies, domain, removeAllAdmins="")
        assert admins_of(client, admin_cookies, domain) == []
    finally:
        directory.delete(layout.admin_dn(standalone))


def test_remove_all_admins_with_add_admin_replaces_them(client, admin_cookies, domain,
                                                       directory, layout):
    """removeAllAdmins with addAdmin: the domain's admins are then those added, one of
    them an admin already (it stays one, with its login)."""
    kept, gone, new = (f"{name}@{domain}" for name in ("kept", "gone", "new"))
    for user in (kept, gone, new):
        helpers.add_mail_user(directory, layout, user)
    put_admins(client, admin_cookies, domain, addAdmin=f"{kept},{gone}")
    assert reply(put_admins(client, admin_cookies, domain, removeAllAdmins="",
                            addAdmin=f"{kept},{new}")) == (200, True, None)
    assert admins_of(client, admin_cookies, domain) == sorted([kept, new])
    for user, admin in ((kept, True), (new, True), (gone, False)):
        assert directory.get(layout.user_dn(user)).has_value(
            "enabledService", "domainadmin") is admin, user


def test_admin_of_two_domains_keeps_the_service(client, admin_cookies, domain, directory,
                                                layout):
    second = f"t-{secrets.token_hex(4)}.test"
    helpers.add_domain(directory, layout, second)
    try:
        user = f"both@{domain}"
        helpers.add_mail_user(directory, layout, user)
        put_admins(client, admin_cookies, domain, addAdmin=user)
        put_admins(client, admin_cookies, second, addAdmin=user)
        put_admins(client, admin_cookies, domain, removeAdmin=user)
        assert directory.get(layout.user_dn(user)).has_value("enabledService", "domainadmin")
    finally:
        directory.delete(layout.domain_dn(second), subtree=True)


@pytest.mark.parametrize("data, status, code", [
    ({"addAdmin": "nobody@example.com"}, 404, "NO_SUCH_ACCOUNT"),
    ({"addAdmin": "a)(b@example.com"}, 400, "INVALID_MAIL"),
    ({"bogus": "x"}, 400, "UNKNOWN_PARAMETER"),
    ({}, 400, "MISSING_PARAMETER"),
])
def test_bad_admin_updates(client, admin_cookies, domain, data, status, code):
    assert reply(put_admins(client, admin_cookies, domain, **data)) == (status, False, code)
    assert admins_of(client, admin_cookies, domain) == []


def test_normal_admin_scope(client, domain_admin, domain, directory, layout):
    cookies = session_cookie(login(client, domain_admin))
    assert client.simulate_get(f"/api/domain/{domain}", cookies=cookies).status_code == 200
    assert reply(form(client, "PUT", f"/api/domain/{domain}", {"name": "Mine"},
                      cookies=cookies)) == (200, True, None)
    # limits and backup MX are for global admins
    for data in ({"numberOfUsers": "100"}, {"quota": "1"}, {"maxUserQuota": "5"},
                 {"is_backupmx": "yes", "primarymx": "mx.example.org"}):
        assert reply(form(client, "PUT", f"/api/domain/{domain}", data, cookies=cookies)) == (
            403, False, "PERMISSION_DENIED"), data
    # another domain: not visible, not changeable, not deletable
    for result in (client.simulate_get("/api/domain/example.com", cookies=cookies),
                   form(client, "PUT", "/api/domain/example.com", {"name": "x"},
                        cookies=cookies),
                   client.simulate_delete("/api/domain/example.com", cookies=cookies),
                   client.simulate_get("/api/domain/admins/example.com", cookies=cookies),
                   put_admins(client, cookies, "example.com", addAdmin=domain_admin)):
        assert reply(result) == (403, False, "PERMISSION_DENIED")
    assert directory.get(layout.domain_dn("example.com")).first("cn") != "x"
    # may promote its own domain's users, not others
    mine = f"mine@{domain}"
    helpers.add_mail_user(directory, layout, mine)
    assert reply(put_admins(client, cookies, domain, addAdmin=mine)) == (200, True, None)
    assert reply(put_admins(client, cookies, domain, addAdmin="postmaster@example.com")) == (
        403, False, "PERMISSION_DENIED")
    # may not create domains without create_new_domains
    name = f"t-{secrets.token_hex(4)}.test"
    assert reply(form(client, "POST", f"/api/domain/{name}", {"name": "x"},
                      cookies=cookies)) == (403, False, "PERMISSION_DENIED")


def test_normal_admin_domain_creation_limit_holds_under_races(make_client, directory,
                                                               layout):
    mail = f"creator-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, mail,
                      accountSetting=["create_new_domains:yes", "create_max_domains:2"])
    names = [f"t-race-{secrets.token_hex(3)}-{i}.test" for i in range(6)]
    try:
        client = make_client()
        cookies = session_cookie(login(client, mail))
        first = form(client, "POST", f"/api/domain/{names[0]}", {"name": "x"}, cookies=cookies)
        assert reply(first) == (200, True, None)
        assert directory.get(layout.domain_dn(names[0])).get("domainAdmin") == [mail]

        def create(name):
            own = make_client()  # a client (and app) per thread, like separate workers
            return reply(form(own, "POST", f"/api/domain/{name}", {"name": "x"},
                              cookies=cookies))
        with ThreadPoolExecutor(max_workers=5) as pool:
            results = list(pool.map(create, names[1:]))
        managed = [n for n in names if directory.get(layout.domain_dn(n)) is not None]
        assert len(managed) == 2  # exactly the limit: racers retry until it is full
        assert sorted(results) == [(200, True, None)] + [(422, False, "EXCEEDED_LIMIT")] * 4
    finally:
        for name in names:
            directory.delete(layout.domain_dn(name), subtree=True)
        directory.delete(layout.admin_dn(mail))
