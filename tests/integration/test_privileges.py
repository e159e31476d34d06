"""A normal admin acts only on accounts whose privileges are within its own, grants no
privilege, keeps mailboxes inside its domain, and obeys the profiles a global admin
disabled (DESIGN.md section 7)."""

import secrets

import pytest

from .. import helpers
from ..helpers import form, login, reply, session_cookie

NEW_PASSWORD = "N3w-Passw0rd!x"


@pytest.fixture
def tenant(client, directory, layout, domain, domain_admin):
    """A domain managed by a normal admin, holding a global admin, an admin of another
    domain and an ordinary user; the normal admin's session."""
    other = f"t-{secrets.token_hex(4)}.test"
    helpers.add_domain(directory, layout, other)
    chief = f"chief@{domain}"
    helpers.add_mail_user(directory, layout, chief, domainGlobalAdmin=["yes"])
    foreign_admin = f"foreign@{domain}"
    helpers.add_mail_user(directory, layout, foreign_admin,
                          enabledService=["mail", "deliver", "domainadmin"])
    directory.modify(layout.domain_dn(other), [helpers.add_values("domainAdmin",
                                                                  foreign_admin)])
    plain = f"plain@{domain}"
    helpers.add_mail_user(directory, layout, plain)
    cookies = session_cookie(login(client, domain_admin))
    yield {"domain": domain, "other": other, "chief": chief, "foreign": foreign_admin,
           "plain": plain, "cookies": cookies, "admin": domain_admin}
    directory.delete(layout.domain_dn(other), subtree=True)


def _attempts(target, domain):
    return [
        ("PUT", f"/api/user/{target}", {"password": NEW_PASSWORD}),
        ("PUT", f"/api/user/{target}", {"accountStatus": "disabled"}),
        ("PUT", f"/api/user/{target}", {"forwarding": f"plain@{domain}"}),
        ("PUT", f"/api/user/{target}", {"addService": "mail"}),
        ("POST", f"/api/user/{target}/change_email/renamed-{secrets.token_hex(2)}@{domain}",
         {}),
        ("DELETE", f"/api/user/{target}", {}),
        ("DELETE", f"/api/user/{target}/keep_mailbox_days/1", {}),
        ("GET", f"/api/ldif/user/{target}", {}),
        ("POST", f"/api/verify_password/user/{target}", {"password": helpers.PASSWORD}),
    ]


@pytest.mark.parametrize("who", ["chief", "foreign"])
def test_no_action_on_accounts_with_more_privileges(client, tenant, directory, layout, who):
    target = tenant[who]
    before = directory.get(layout.user_dn(target))
    for method, path, data in _attempts(target, tenant["domain"]):
        result = form(client, method, path, data, cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), (method, path, result.json)
    after = directory.get(layout.user_dn(target))
    assert after is not None and after.attrs == before.attrs
    assert directory.check_password(layout.user_dn(target), helpers.PASSWORD)
    # The same requests pass for an ordinary user (the refusal is about privileges).
    result = form(client, "PUT", f"/api/user/{tenant['plain']}",
                  {"password": NEW_PASSWORD}, cookies=tenant["cookies"])
    assert reply(result) == (200, True, None)


def test_reading_a_privileged_user_reveals_no_other_domain(client, tenant, admin_cookies):
    result = client.simulate_get(f"/api/user/{tenant['foreign']}", cookies=tenant["cookies"])
    assert result.status_code == 200 and result.json["_data"]["managed_domains"] == []
    result = client.simulate_get(f"/api/user/{tenant['foreign']}", cookies=admin_cookies)
    assert result.json["_data"]["managed_domains"] == [tenant["other"]]


def test_domain_export_leaves_out_hashes_of_privileged_accounts(client, tenant):
    result = client.simulate_get(f"/api/ldif/domain/{tenant['domain']}",
                                 headers={"Accept": "text/ldif"}, cookies=tenant["cookies"])
    assert result.status_code == 200
    records = {block.split("\n", 1)[0]: block for block in result.text.split("\n\n")}
    def record(mail):
        return next(b for dn, b in records.items() if dn.startswith(f"dn: mail={mail},"))
    assert "userPassword" not in record(tenant["chief"])
    assert "userPassword" not in record(tenant["foreign"])
    assert "userPassword" in record(tenant["plain"])


def test_domain_wide_changes_spare_privileged_accounts(client, tenant, directory, layout):
    domain = tenant["domain"]
    result = form(client, "PUT", f"/api/users/{domain}", {"password": NEW_PASSWORD},
                  cookies=tenant["cookies"])
    assert reply(result) == (200, True, None)
    failed = {item["dn"]: item["_msg"] for item in result.json["_data"]["failed"]}
    assert failed == {layout.user_dn(tenant["chief"]): "PERMISSION_DENIED",
                      layout.user_dn(tenant["foreign"]): "PERMISSION_DENIED"}
    assert directory.check_password(layout.user_dn(tenant["chief"]), helpers.PASSWORD)
    assert directory.check_password(layout.user_dn(tenant["plain"]), NEW_PASSWORD)
    for method, path, data in (("PUT", f"/api/domain/{domain}", {"accountStatus": "disabled"}),
                               ("DELETE", f"/api/domain/{domain}", {}),
                               ("DELETE", f"/api/domain/{domain}/keep_mailbox_days/1", {})):
        result = form(client, method, path, data, cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), (method, path)
    entry = directory.get(layout.user_dn(tenant["chief"]), ["domainStatus"])
    assert entry is not None and entry.first("domainStatus") is None


def test_no_admin_privilege_through_services(client, tenant, directory, layout):
    plain = tenant["plain"]
    for data in ({"addService": "domainadmin"}, {"services": "mail,deliver,domainadmin"},
                 {"addService": "mail, DomainAdmin"}):
        result = form(client, "PUT", f"/api/user/{plain}", data, cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), data
    assert not directory.get(layout.user_dn(plain)).has_value("enabledService", "domainadmin")
    assert reply(login(client, plain)) == (403, False, "PERMISSION_DENIED")


def test_domain_admins_only_within_privileges(client, tenant, directory, layout):
    domain = tenant["domain"]
    co_admin = f"co-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, co_admin)
    try:
        for name in (domain, tenant["other"]):
            directory.modify(layout.domain_dn(name), [helpers.add_values("domainAdmin",
                                                                         co_admin)])
        for data in ({"removeAdmin": co_admin}, {"removeAllAdmins": ""},
                     {"addAdmin": tenant["foreign"]}, {"addAdmin": tenant["chief"]}):
            result = form(client, "PUT", f"/api/domain/admins/{domain}", data,
                          cookies=tenant["cookies"])
            assert reply(result) == (403, False, "PERMISSION_DENIED"), data
        assert co_admin in directory.get(layout.domain_dn(domain)).get("domainAdmin")
        result = form(client, "PUT", f"/api/domain/admins/{domain}",
                      {"addAdmin": tenant["plain"]}, cookies=tenant["cookies"])
        assert reply(result) == (200, True, None)
    finally:
        directory.delete(layout.admin_dn(co_admin))


def _create(client, cookies, mail, maildir):
    return form(client, "POST", f"/api/user/{mail}",
                {"password": NEW_PASSWORD, "maildir": maildir}, cookies=cookies)


def test_maildir_stays_in_the_domain(client, tenant, admin_cookies, directory, layout,
                                     base_settings):
    base = base_settings.storage_base_directory
    domain, other = tenant["domain"], tenant["other"]
    plain_home = directory.get(layout.user_dn(tenant["plain"])).first("homeDirectory")
    refused = [f"{base}/{other}/x/y/victim/", "/etc/", "/etc", f"{base}/", base,
               f"{base}/{other}/", f"{base}/{domain}", f"{base}/{domain}/",
               # folders new mailboxes are made in: a later user's would lie inside
               f"{base}/{domain}/j/", f"{base}/{domain}/j/o", f"{base}/{domain}/j/o/h/",
               f"{base}/{domain}/../{other}/z/", f"{base}/{domain}/./../../x/",
               f"{base}//{other}//w/", plain_home, plain_home + "Maildir/",
               plain_home.rstrip("/"), f"{base}/{domain}/sp ace/", "relative/x",
               f"{base}/{domain}/x\n"]
    for maildir in refused:
        result = _create(client, tenant["cookies"], f"new-{secrets.token_hex(2)}@{domain}",
                         maildir)
        assert reply(result) == (400, False, "INVALID_PARAMETER"), maildir
        result = form(client, "PUT", f"/api/user/{tenant['plain']}", {"maildir": maildir},
                      cookies=tenant["cookies"])
        assert reply(result) == (400, False, "INVALID_PARAMETER"), maildir
    assert directory.get(layout.user_dn(tenant["plain"])).first("homeDirectory") == plain_home
    result = _create(client, tenant["cookies"], f"fine@{domain}", f"{base}/{domain}/Own/Box")
    assert reply(result) == (200, True, None)
    assert directory.get(layout.user_dn(f"fine@{domain}")).first("homeDirectory") == \
        f"{base}/{domain}/own/box/"
    # A folder that holds it is another account's mailbox's too.
    result = _create(client, tenant["cookies"], f"over@{domain}", f"{base}/{domain}/own/")
    assert reply(result) == (400, False, "INVALID_PARAMETER")
    # A global admin may put a mailbox anywhere inside the storage base, nowhere else.
    result = _create(client, admin_cookies, f"moved@{domain}", f"{base}/{other}/moved/")
    assert reply(result) == (200, True, None)
    for maildir in ("/etc/", f"{base}/../x/", base):
        result = _create(client, admin_cookies, f"no-{secrets.token_hex(2)}@{domain}", maildir)
        assert reply(result) == (400, False, "INVALID_PARAMETER"), maildir


def test_maildir_symlink_out_of_the_domain_is_resolved(client, tenant, tmp_path,
                                                       make_client):
    base = tmp_path / "vmail"
    (base / tenant["other"] / "victim").mkdir(parents=True)
    (base / tenant["domain"]).mkdir()
    (base / tenant["domain"] / "link").symlink_to(base / tenant["other"])
    client = make_client(storage_base_directory=str(base))
    cookies = session_cookie(login(client, tenant["admin"]))
    result = _create(client, cookies, f"via-link@{tenant['domain']}",
                     f"{base}/{tenant['domain']}/link/victim/")
    assert reply(result) == (400, False, "INVALID_PARAMETER")


def test_disabled_profiles_bind_normal_admins(client, tenant, admin_cookies, store_client,
                                              directory, layout):
    domain, plain = tenant["domain"], tenant["plain"]
    result = form(client, "PUT", f"/api/domain/{domain}",
                  {"disableDomainProfile": "spampolicy,catchall,bcc,relay,throttle",
                   "disableUserProfile": "forwarding,throttle,spampolicy,greylisting,aliases",
                   "senderBcc": f"{plain}"}, cookies=admin_cookies)
    assert reply(result) == (200, True, None)
    cookies = tenant["cookies"]
    denied = [
        ("PUT", f"/api/domain/{domain}", {"catchall": plain}),
        ("PUT", f"/api/domain/{domain}", {"senderBcc": ""}),
        ("PUT", f"/api/domain/{domain}", {"outboundRelay": "[192.0.2.9]:25"}),
        ("PUT", f"/api/domain/{domain}", {"transport": "smtp:[192.0.2.9]"}),
        ("PUT", f"/api/domain/{domain}", {"enableDomainProfile": "spampolicy"}),
        ("PUT", f"/api/domain/{domain}", {"disableDomainProfile": "aliases"}),
        ("PUT", f"/api/domain/{domain}", {"enableUserProfile": "forwarding"}),
        ("GET", f"/api/spampolicy/domain/{domain}", {}),
        ("PUT", f"/api/spampolicy/domain/{domain}", {"bypass_spam_checks": "yes"}),
        ("DELETE", f"/api/spampolicy/domain/{domain}", {}),
        ("POST", f"/api/throttle/{domain}/inbound", {"period": "60", "max_msgs": "5"}),
        ("GET", f"/api/spampolicy/user/{plain}", {}),
        ("POST", f"/api/throttle/{plain}/outbound", {"period": "60", "max_msgs": "5"}),
        ("POST", f"/api/greylisting/{plain}", {"status": "disable"}),
        ("POST", f"/api/greylisting/{plain}/whitelists", {"senders": "192.0.2.1"}),
        ("PUT", f"/api/user/{plain}", {"forwarding": "x@example.org"}),
        ("PUT", f"/api/user/{plain}", {"addAlias": f"alias@{domain}"}),
        ("POST", f"/api/user/fwd@{domain}", {"password": NEW_PASSWORD,
                                              "forwarding": "x@example.org"}),
    ]
    for method, path, data in denied:
        result = form(store_client, method, path, data, cookies=cookies)
        assert reply(result) == (403, False, "PERMISSION_DENIED"), (method, path)
    # What is not disabled still works, and the global admin is not bound.
    assert reply(form(store_client, "POST", f"/api/greylisting/{domain}",
                      {"status": "disable"}, cookies=cookies)) == (200, True, None)
    assert reply(form(client, "PUT", f"/api/user/{plain}", {"name": "Plain"},
                      cookies=cookies)) == (200, True, None)
    assert reply(form(store_client, "PUT", f"/api/spampolicy/domain/{domain}",
                      {"bypass_spam_checks": "yes"}, cookies=admin_cookies)) == \
        (200, True, None)
    # A normal admin does not see what is disabled.
    seen = client.simulate_get(f"/api/domain/{domain}", cookies=cookies).json["_data"]
    assert "catchall" not in seen and "domainSenderBccAddress" not in seen
    assert "mtaTransport" not in seen and "domainName" in seen
    shown = client.simulate_get(f"/api/domain/{domain}", cookies=admin_cookies).json["_data"]
    assert shown["domainSenderBccAddress"] == plain and "catchall" in shown
    rows = store_client.simulate_get("/api/greylisting/all", cookies=cookies).json["_data"]
    assert [row["account"] for row in rows] == [f"@{domain}"]
    assert directory.get(layout.user_dn(f"fwd@{domain}"), ["1.1"]) is None


@pytest.fixture
def store_client(make_client, tmp_path):
    """A client on fresh embedded policy databases."""
    from iredapi_ldap.policy.store import SqlPolicyStore
    store = SqlPolicyStore({name: f"sqlite:///{tmp_path / name}.sqlite"
                            for name in ("amavisd", "iredapd", "iredadmin")})
    store.create_missing_tables()
    return make_client(policy=store)


def test_no_domain_over_a_standalone_admins_address(client, tenant, directory, layout,
                                                    admin_cookies):
    """A domain (or alias domain) holding a standalone admin's address would let a user made
    at that address log in in the admin's place."""
    creator = f"maker-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, creator,
                      accountSetting=["create_new_domains:yes", "create_max_domains:5"])
    try:
        cookies = session_cookie(login(client, creator))
        for who in (cookies, admin_cookies):
            result = form(client, "POST", "/api/domain/admins.example.net", {"name": "x"},
                          cookies=who)
            assert reply(result) == (400, False, "CAN_NOT_BE_LOCAL_DOMAIN")
        result = form(client, "PUT", f"/api/domain/{tenant['domain']}",
                      {"addAliasDomain": "admins.example.net"}, cookies=tenant["cookies"])
        assert reply(result) == (400, False, "CAN_NOT_BE_LOCAL_DOMAIN")
        assert directory.get(layout.domain_dn("admins.example.net")) is None
    finally:
        directory.delete(layout.admin_dn(creator))


def test_a_domain_create_without_the_right_reveals_and_touches_nothing(
        make_client, client, tenant, directory, layout, admin_cookies):
    for name in (tenant["other"], "example.com", "admins.example.net",
                 f"t-{secrets.token_hex(4)}.test"):
        result = form(client, "POST", f"/api/domain/{name}", {"name": "x"},
                      cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), name
    # A global admin's delete of a domain, cut short before anything went...
    victim = f"t-{secrets.token_hex(4)}.test"
    helpers.add_domain(directory, layout, victim)
    helpers.add_mail_user(directory, layout, f"bob@{victim}")
    entries = len(list(directory.search(layout.domain_dn(victim), "(objectClass=*)")))
    refusing = make_client(directory=helpers.Refusing(directory, "delete"))
    assert reply(refusing.simulate_delete(f"/api/domain/{victim}", cookies=admin_cookies)) \
        == (503, False, "DIRECTORY_UNAVAILABLE")
    creator = f"maker-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, creator,
                      accountSetting=["create_new_domains:yes", "create_max_domains:5"])
    try:
        # ...is neither finished nor revealed by a normal admin's create of the name.
        result = form(client, "POST", f"/api/domain/{victim}", {"name": "x"},
                      cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED")
        result = form(client, "POST", f"/api/domain/{victim}", {"name": "x"},
                      cookies=session_cookie(login(client, creator)))
        assert reply(result) == (409, False, "CONCURRENT_UPDATE")
        assert len(list(directory.search(layout.domain_dn(victim), "(objectClass=*)"))) \
            == entries
    finally:
        directory.delete(layout.admin_dn(creator))
        # Its repeat by the global admin finishes it.
        assert reply(client.simulate_delete(f"/api/domain/{victim}", cookies=admin_cookies)) \
            == (200, True, None)
        assert directory.get(layout.domain_dn(victim)) is None


def test_a_normal_admins_domain_delete_leaves_other_tenants_alone(client, tenant, directory,
                                                                  layout, admin_cookies):
    other, plain = tenant["other"], tenant["plain"]
    outsider = f"carol@{other}"
    helpers.add_mail_user(directory, layout, outsider,
                          mailForwardingAddress=[f"carol.private@{tenant['domain']}"])
    creator = f"maker-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, creator,
                      accountSetting=["create_new_domains:yes", "create_max_domains:5"])
    made = f"t-{secrets.token_hex(4)}.test"
    try:
        cookies = session_cookie(login(client, creator))
        directory.modify(layout.user_dn(outsider),
                         [helpers.add_values("mailForwardingAddress", f"x@{made}")])
        assert reply(form(client, "POST", f"/api/domain/{made}", {"name": "x"},
                          cookies=cookies)) == (200, True, None)
        assert reply(client.simulate_delete(f"/api/domain/{made}", cookies=cookies)) == \
            (200, True, None)
        forwarding = directory.get(layout.user_dn(outsider)).get("mailForwardingAddress")
        assert f"x@{made}" in forwarding  # another tenant's setting: not the creator's
        # A global admin's delete cleans up everywhere, as before.
        assert reply(client.simulate_delete(f"/api/user/{plain}", cookies=admin_cookies))[1]
    finally:
        directory.delete(layout.domain_dn(made), subtree=True)
        directory.delete(layout.admin_dn(creator))


def test_padded_values_are_judged_as_stored(client, tenant, directory, layout):
    for value in (" disabled", "disabled ", "DISABLED"):
        result = form(client, "PUT", f"/api/domain/{tenant['domain']}",
                      {"accountStatus": value}, cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), value
    entry = directory.get(layout.user_dn(tenant["chief"]), ["domainStatus"])
    assert entry.first("domainStatus") is None


def test_domain_settings_that_reach_every_mailbox(client, tenant):
    """BCC, relay, transport and services of a domain reach its global admin's mail too."""
    for data in ({"recipientBcc": "spy@example.org"}, {"senderBcc": "spy@example.org"},
                 {"transport": "smtp:[203.0.113.9]:25"}, {"outboundRelay": "[203.0.113.9]"},
                 {"removeService": "mail"}):
        result = form(client, "PUT", f"/api/domain/{tenant['domain']}", data,
                      cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), data
    result = form(client, "PUT", f"/api/domain/{tenant['domain']}", {"name": "Fine"},
                  cookies=tenant["cookies"])
    assert reply(result) == (200, True, None)


def test_policies_of_privileged_users_are_out_of_reach(client, tenant, store_client):
    for who in ("chief", "foreign"):
        target = tenant[who]
        for method, path, data in (
                ("PUT", f"/api/spampolicy/user/{target}", {"bypass_virus_checks": "yes"}),
                ("GET", f"/api/spampolicy/user/{target}", {}),
                ("DELETE", f"/api/spampolicy/user/{target}", {}),
                ("POST", f"/api/throttle/{target}/outbound", {"period": "60", "max_msgs": "1"}),
                ("POST", f"/api/greylisting/{target}", {"status": "disable"}),
                ("POST", f"/api/greylisting/{target}/whitelists",
                 {"addSenders": "0.0.0.0/0"})):
            result = form(store_client, method, path, data, cookies=tenant["cookies"])
            assert reply(result) == (403, False, "PERMISSION_DENIED"), (method, path)


def test_disabled_profiles_cannot_be_switched_off_through_services(
        client, tenant, admin_cookies, directory, layout):
    domain, plain = tenant["domain"], tenant["plain"]
    directory.modify(layout.user_dn(plain), [helpers.add_values(
        "enabledService", "senderbcc", "recipientbcc", "forward", "shadowaddress")])
    assert reply(form(client, "PUT", f"/api/domain/{domain}",
                      {"disableDomainProfile": "bcc", "disableUserProfile": "bcc,forwarding"},
                      cookies=admin_cookies)) == (200, True, None)
    for data in ({"removeService": "senderbcc"}, {"removeService": "forward"},
                 {"services": "mail,deliver"}, {"removeAllServices": ""}):
        result = form(client, "PUT", f"/api/user/{plain}", data, cookies=tenant["cookies"])
        assert reply(result) == (403, False, "PERMISSION_DENIED"), data
    assert reply(form(client, "PUT", f"/api/user/{plain}", {"addService": "sogo"},
                      cookies=tenant["cookies"])) == (200, True, None)
    services = directory.get(layout.user_dn(plain)).get("enabledService")
    assert {"senderbcc", "recipientbcc", "forward"} <= set(services)


def test_disabled_profiles_are_hidden_from_lists_and_exports(client, tenant, admin_cookies,
                                                             directory, layout):
    domain, plain = tenant["domain"], tenant["plain"]
    directory.modify(layout.user_dn(plain), [helpers.add_values(
        "mailForwardingAddress", "kept@example.org")])
    assert reply(form(client, "PUT", f"/api/domain/{domain}",
                      {"disableDomainProfile": "relay", "disableUserProfile": "forwarding"},
                      cookies=admin_cookies)) == (200, True, None)
    cookies = tenant["cookies"]
    domains = client.simulate_get("/api/domains", cookies=cookies).json["_data"]
    assert domains and all("mtaTransport" not in d for d in domains)
    users = client.simulate_get(f"/api/users/{domain}", cookies=cookies).json["_data"]
    assert users and all("mailForwardingAddress" not in u for u in users)
    for path in (f"/api/ldif/user/{plain}", f"/api/ldif/domain/{domain}"):
        text = client.simulate_get(path, headers={"Accept": "text/ldif"},
                                   cookies=cookies).text
        assert "kept@example.org" not in text and "mtaTransport" not in text, path
    shown = client.simulate_get(f"/api/ldif/user/{plain}", headers={"Accept": "text/ldif"},
                                cookies=admin_cookies).text
    assert "kept@example.org" in shown


def test_kept_mailboxes_stay_out_of_reach(client, tenant, admin_cookies, directory, layout,
                                          store_client, base_settings):
    domain = tenant["domain"]
    held = f"held@{domain}"
    helpers.add_mail_user(directory, layout, held,
                          homeDirectory=[f"{base_settings.storage_base_directory}/{domain}/"
                                         "h/e/l/held-1/"])
    home = directory.get(layout.user_dn(held)).first("homeDirectory")
    assert reply(store_client.simulate_delete(f"/api/user/{held}",
                                              cookies=admin_cookies)) == (200, True, None)
    for path in (home, home + "Maildir/", home.rsplit("/", 3)[0] + "/"):
        result = form(store_client, "POST", f"/api/user/thief-{secrets.token_hex(2)}@{domain}",
                      {"password": NEW_PASSWORD, "maildir": path}, cookies=tenant["cookies"])
        assert reply(result) == (400, False, "INVALID_PARAMETER"), path


def test_a_new_mailbox_never_takes_the_path_of_a_kept_one(make_client, tmp_path, directory,
                                                          layout, domain, admin_cookies,
                                                          base_settings):
    """An address deleted with its mailbox kept and made again within the second would get
    the same time-stamped path, and the old mail."""
    import datetime

    from iredapi_ldap.model.maildir import maildir_path
    from iredapi_ldap.policy.store import SqlPolicyStore
    store = SqlPolicyStore({name: f"sqlite:///{tmp_path / name}.sqlite"
                            for name in ("amavisd", "iredapd", "iredadmin")})
    store.create_missing_tables()
    mail = f"again@{domain}"
    now = datetime.datetime.now()
    kept = [maildir_path(base_settings.storage_base_directory, mail,
                         now + datetime.timedelta(seconds=later)) for later in range(3)]
    store.record_deleted_mailboxes([{"username": mail, "domain": domain, "maildir": path,
                                     "admin": "postmaster@example.com", "delete_date": None}
                                    for path in kept])
    result = form(make_client(policy=store), "POST", f"/api/user/{mail}",
                  {"password": NEW_PASSWORD}, cookies=admin_cookies)
    assert reply(result) == (200, True, None)
    home = directory.get(layout.user_dn(mail), ["homeDirectory"]).first("homeDirectory")
    assert home not in kept and home.rsplit("-", 1)[0] == kept[0].rsplit("-", 1)[0]
    # Inside a kept folder above (a custom maildir of old), no later second helps.
    folder = f"{base_settings.storage_base_directory}/{domain}/a/g/a/"
    store.record_deleted_mailboxes([{"username": f"x@{domain}", "domain": domain,
                                     "maildir": folder, "admin": "postmaster@example.com",
                                     "delete_date": None}])
    result = form(make_client(policy=store), "POST", f"/api/user/agatha@{domain}",
                  {"password": NEW_PASSWORD}, cookies=admin_cookies)
    assert reply(result) == (409, False, "ALREADY_EXISTS")
    assert directory.get(layout.user_dn(f"agatha@{domain}")) is None


def test_costly_password_hashes_are_refused(client, tenant, directory, layout):
    from passlib import hash as h

    from iredapi_ldap import passwords
    costly = "{CRYPT}" + h.sha512_crypt.using(rounds=200_000).hash("Secret-1x")
    result = form(client, "PUT", f"/api/user/{tenant['plain']}", {"password_hash": costly},
                  cookies=tenant["cookies"])
    assert reply(result) == (400, False, "INVALID_PASSWORD_SCHEME")
    bcrypt = "{CRYPT}" + h.bcrypt.using(rounds=14).hash("Secret-1x")
    assert reply(form(client, "PUT", f"/api/user/{tenant['plain']}", {"password_hash": bcrypt},
                      cookies=tenant["cookies"]))[2] == "INVALID_PASSWORD_SCHEME"
    # One stored by another tool is not checked at all: no login may cost that much.
    import time
    started = time.monotonic()
    assert not passwords.verify("Secret-1x", [costly])
    assert time.monotonic() - started < 0.05


def test_members_hosted_by_another_tenant_get_no_write(client, tenant, admin_cookies,
                                                       directory, layout):
    domain = tenant["domain"]
    future = f"t-{secrets.token_hex(4)}.test"
    lst = f"li@{domain}"
    assert reply(form(client, "POST", f"/api/maillist/{lst}", {"members": f"x@{future}"},
                      cookies=tenant["cookies"])) == (200, True, None)
    helpers.add_domain(directory, layout, future)  # another tenant, hosted since
    try:
        helpers.add_mail_user(directory, layout, f"x@{future}")
        assert reply(form(client, "PUT", f"/api/maillist/{lst}",
                          {"addMember": "z@outside.example.org"},
                          cookies=tenant["cookies"])) == (200, True, None)
        assert not directory.get(layout.user_dn(f"x@{future}")).get("memberOfGroup")
        # A member there that a global admin added keeps its membership as it is...
        helpers.add_mail_user(directory, layout, f"y@{future}")
        assert reply(form(client, "PUT", f"/api/maillist/{lst}", {"addMember": f"y@{future}"},
                          cookies=admin_cookies)) == (200, True, None)
        assert reply(form(client, "PUT", f"/api/maillist/{lst}",
                          {"addMember": "w@outside.example.org"},
                          cookies=tenant["cookies"])) == (200, True, None)
        assert directory.get(layout.user_dn(f"y@{future}")).get("memberOfGroup") == [lst]
        externals = directory.get(f"memberOfGroup={lst},"
                                  f"{layout.container_dn(domain, 'Externals')}", ["mail"])
        assert f"y@{future}" not in externals.get("mail")  # not made an outside member
        # ...until the list's admin takes it off: only the list's address leaves the entry.
        assert reply(form(client, "PUT", f"/api/maillist/{lst}", {"removeMember": f"y@{future}"},
                          cookies=tenant["cookies"])) == (200, True, None)
        assert not directory.get(layout.user_dn(f"y@{future}")).get("memberOfGroup")
        # Nor does it keep the address of a list deleted by its admin.
        assert reply(form(client, "PUT", f"/api/maillist/{lst}", {"addMember": f"y@{future}"},
                          cookies=admin_cookies)) == (200, True, None)
        assert reply(client.simulate_delete(f"/api/maillist/{lst}",
                                            cookies=tenant["cookies"])) == (200, True, None)
        assert not directory.get(layout.user_dn(f"y@{future}")).get("memberOfGroup")
    finally:
        directory.delete(layout.domain_dn(future), subtree=True)
