"""Domain endpoints, read back by GET and checked with Postfix's lookups."""

import secrets

import pytest

from .. import helpers
from ..helpers import form, login, reply, session_cookie
from ..mailstack import Route


def new_name():
    return f"t-{secrets.token_hex(4)}.test"


@pytest.fixture
def created(client, admin_cookies, directory, layout):
    """Domains created through the API in a test; removed afterwards."""
    names = []
    yield names
    for name in names:
        directory.delete(layout.domain_dn(name), subtree=True)


def create(client, cookies, domain_name, created, **data):
    created.append(domain_name)
    return form(client, "POST", f"/api/domain/{domain_name}", {"name": "Test Inc", **data},
                cookies=cookies)


def put(client, cookies, domain_name, **data):
    return form(client, "PUT", f"/api/domain/{domain_name}", data, cookies=cookies)


def profile(client, cookies, name):
    result = client.simulate_get(f"/api/domain/{name}", cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


def test_create_with_every_parameter(client, admin_cookies, created, mailstack):
    name = new_name()
    result = create(client, admin_cookies, name, created, quota="2048", language="de_DE",
                    transport="smtp:[192.0.2.25]:25", defaultQuota="512", maxUserQuota="1024",
                    numberOfUsers="20", numberOfAliases="30", numberOfLists="-1",
                    senderBcc="audit@example.org", recipientBcc="in@example.org")
    assert reply(result) == (200, True, None)
    data = profile(client, admin_cookies, name)
    assert data["domainName"] == name and data["cn"] == "Test Inc"
    assert data["preferredLanguage"] == "de_DE" and data["accountStatus"] == "active"
    assert data["mtaTransport"] == "smtp:[192.0.2.25]:25"
    assert data["accountSetting"] == {"domainQuota": "2048:MB", "defaultQuota": 512,
                                      "maxUserQuota": 1024, "numberOfUsers": 20,
                                      "numberOfAliases": 30, "numberOfLists": -1}
    assert sorted(data["enabledService"]) == ["mail", "recipientbcc", "senderbcc"]
    assert data["catchall"] == []
    assert (data["domainCurrentUserNumber"], data["domainCurrentAliasNumber"],
            data["domainCurrentListNumber"], data["domainCurrentQuotaSize"]) == (0, 0, 0, 0)
    assert mailstack.lookup("virtual_mailbox_domains", name) == [name]
    assert mailstack.lookup("transport_maps_domain", name) == ["smtp:[192.0.2.25]:25"]
    assert mailstack.lookup("sender_bcc_maps_domain", "x@" + name) == ["audit@example.org"]
    assert mailstack.lookup("recipient_bcc_maps_domain", "x@" + name) == ["in@example.org"]


def test_create_defaults(client, admin_cookies, created, base_settings, directory, layout):
    name = new_name()
    assert reply(create(client, admin_cookies, name, created)) == (200, True, None)
    data = profile(client, admin_cookies, name)
    assert data["mtaTransport"] == base_settings.default_mta_transport
    assert data["enabledService"] == ["mail"]
    for container in ("Users", "Groups", "Aliases", "Externals"):
        assert directory.get(layout.container_dn(name, container)) is not None


def test_create_without_name(client, admin_cookies, created, directory, layout, mailstack):
    """`name` is optional in the newest Pro API: the domain then has no `cn`, as iRedAdmin
    writes it without one."""
    name = new_name()
    created.append(name)
    result = form(client, "POST", f"/api/domain/{name}", {}, cookies=admin_cookies)
    assert reply(result) == (200, True, None)
    assert "cn" not in profile(client, admin_cookies, name)
    assert directory.get(layout.domain_dn(name)).get("cn") == []
    assert mailstack.lookup("virtual_mailbox_domains", name) == [name]
    name = new_name()
    created.append(name)
    assert reply(form(client, "POST", f"/api/domain/{name}", {"name": ""},
                      cookies=admin_cookies)) == (200, True, None)
    assert "cn" not in profile(client, admin_cookies, name)


def test_create_refuses_existing_names(client, admin_cookies, created, domain):
    assert reply(create(client, admin_cookies, domain, created))[:3] == (
        409, False, "ALREADY_EXISTS")
    alias = new_name()
    put(client, admin_cookies, domain, addAliasDomain=alias)
    assert reply(create(client, admin_cookies, alias, created)) == (
        409, False, "ALREADY_EXISTS")
    assert reply(create(client, admin_cookies, domain.upper(), created))[2] == "ALREADY_EXISTS"


@pytest.mark.parametrize("name", ["-a.com", "a..b", "a" * 300 + ".com", "*", "a)(b.com",
                                  "bücher.de", "localhost", "a,b.com", "a\\b.com"])
def test_create_refuses_bad_names(client, admin_cookies, created, name, directory, layout):
    result = form(client, "POST", f"/api/domain/{name}", {"name": "x"}, cookies=admin_cookies)
    assert reply(result) == (400, False, "INVALID_DOMAIN_NAME")


@pytest.mark.parametrize("data, code", [
    ({"quota": "abc"}, "INVALID_PARAMETER"),
    ({"name": "x", "quota": "abc"}, "INVALID_PARAMETER"),
    ({"name": "x", "numberOfUsers": "-2"}, "INVALID_PARAMETER"),
    ({"name": "x", "defaultQuota": "-1"}, "INVALID_PARAMETER"),
    ({"name": "x", "language": "english"}, "INVALID_PARAMETER"),
    ({"name": "x", "transport": "a b"}, "INVALID_PARAMETER"),
    ({"name": "x", "senderBcc": "not-an-address"}, "INVALID_MAIL"),
    ({"name": "x", "bogus": "1"}, "UNKNOWN_PARAMETER"),
    ({"name": "x", "cn": "y"}, "CONFLICTING_PARAMETERS"),
    ({"name": "x" * 300}, "INVALID_PARAMETER"),
])
def test_create_bad_input_creates_nothing(client, admin_cookies, created, directory, layout,
                                          data, code):
    name = new_name()
    result = form(client, "POST", f"/api/domain/{name}", data, cookies=admin_cookies)
    assert reply(result) == (400, False, code)
    assert directory.get(layout.domain_dn(name)) is None


def test_legacy_names_accepted(client, admin_cookies, created):
    name = new_name()
    result = form(client, "POST", f"/api/domain/{name}", {"cn": "Legacy",
                                                          "preferredLanguage": "fr_FR"},
                  cookies=admin_cookies)
    created.append(name)
    assert reply(result) == (200, True, None)
    data = profile(client, admin_cookies, name)
    assert (data["cn"], data["preferredLanguage"]) == ("Legacy", "fr_FR")


def test_update_plain_fields_and_only_those(client, admin_cookies, domain):
    assert reply(put(client, admin_cookies, domain, name="New Name", minPasswordLength="10",
                     maxPasswordLength="40", disableDomainProfile="bcc,relay",
                     disableUserProfile="forwarding", disableUserPreference="wblist")) == (
        200, True, None)
    put(client, admin_cookies, domain, enableDomainProfile="relay", quota="100",
        language="it_IT", transport="lmtp:unix:private/dovecot-lmtp")
    data = profile(client, admin_cookies, domain)
    assert data["cn"] == "New Name"
    assert data["preferredLanguage"] == "it_IT"
    assert data["mtaTransport"] == "lmtp:unix:private/dovecot-lmtp"
    settings = data["accountSetting"]
    assert settings["minPasswordLength"] == 10 and settings["maxPasswordLength"] == 40
    assert settings["disabledDomainProfile"] == ["bcc"]
    assert settings["disabledUserProfile"] == ["forwarding"]
    assert settings["disabledUserPreference"] == ["wblist"]
    assert settings["domainQuota"] == "100:MB" and settings["defaultQuota"] == 1024


def test_services(client, admin_cookies, domain):
    put(client, admin_cookies, domain, addService="self-service")
    assert sorted(profile(client, admin_cookies, domain)["enabledService"]) == [
        "mail", "self-service"]
    put(client, admin_cookies, domain, removeService="self-service")
    assert profile(client, admin_cookies, domain)["enabledService"] == ["mail"]
    put(client, admin_cookies, domain, services="mail,senderbcc")
    assert sorted(profile(client, admin_cookies, domain)["enabledService"]) == [
        "mail", "senderbcc"]
    for value in ("no", "false", "0"):  # not a way to keep them: refused, nothing changed
        assert reply(put(client, admin_cookies, domain, removeAllServices=value)) == (
            400, False, "INVALID_PARAMETER")
    assert sorted(profile(client, admin_cookies, domain)["enabledService"]) == [
        "mail", "senderbcc"]
    put(client, admin_cookies, domain, removeAllServices="")
    assert "enabledService" not in profile(client, admin_cookies, domain)
    assert reply(put(client, admin_cookies, domain, services="mail",
                     addService="x")) == (400, False, "CONFLICTING_PARAMETERS")
    assert reply(put(client, admin_cookies, domain, addService="vpn")) == (
        400, False, "INVALID_PARAMETER")


def test_empty_services_remove_them_all(client, admin_cookies, domain, mailstack):
    """The newest Pro document resets the services with `services`, empty for none (where
    the older one had `removeAllServices`): Postfix stops serving the domain."""
    put(client, admin_cookies, domain, addService="self-service")
    assert reply(put(client, admin_cookies, domain, services="")) == (200, True, None)
    assert "enabledService" not in profile(client, admin_cookies, domain)
    assert mailstack.lookup("virtual_mailbox_domains", domain) == []
    assert reply(put(client, admin_cookies, domain, services="mail")) == (200, True, None)
    assert mailstack.lookup("virtual_mailbox_domains", domain) == [domain]


def test_bcc_and_relay_reach_postfix(client, admin_cookies, domain, mailstack):
    put(client, admin_cookies, domain, senderBcc="copy@example.org",
        outboundRelay="[192.0.2.9]:587")
    assert mailstack.lookup("sender_bcc_maps_domain", "a@" + domain) == ["copy@example.org"]
    assert mailstack.lookup("sender_dependent_relayhost_maps_domain", "a@" + domain) == [
        "[192.0.2.9]:587"]
    put(client, admin_cookies, domain, senderBcc="", outboundRelay="")
    assert mailstack.lookup("sender_bcc_maps_domain", "a@" + domain) == []
    assert mailstack.lookup("sender_dependent_relayhost_maps_domain", "a@" + domain) == []
    assert "senderbcc" not in profile(client, admin_cookies, domain)["enabledService"]


def test_backup_mx(client, admin_cookies, domain, mailstack, base_settings):
    assert reply(put(client, admin_cookies, domain, is_backupmx="yes",
                     primarymx="[mx.example.org]:25")) == (200, True, None)
    assert mailstack.lookup("relay_domains", domain) == [domain]
    assert mailstack.lookup("virtual_mailbox_domains", domain) == []
    assert mailstack.lookup("transport_maps_domain", domain) == ["relay:[mx.example.org]:25"]
    assert mailstack.route("a@" + domain) == Route("relay", "[mx.example.org]:25", False)
    put(client, admin_cookies, domain, is_backupmx="yes", primarymx="192.0.2.7")
    assert mailstack.lookup("transport_maps_domain", domain) == ["relay:[192.0.2.7]"]
    put(client, admin_cookies, domain, is_backupmx="no")
    assert mailstack.lookup("relay_domains", domain) == []
    assert mailstack.lookup("virtual_mailbox_domains", domain) == [domain]
    assert mailstack.lookup("transport_maps_domain", domain) == [
        base_settings.default_mta_transport]
    for data, code in (({"is_backupmx": "yes", "primarymx": "x", "transport": "dovecot"},
                        "CONFLICTING_PARAMETERS"),
                       ({"is_backupmx": "yes", "transport": "dovecot"},
                        "CONFLICTING_PARAMETERS"),
                       ({"primarymx": "a)(b"}, "INVALID_PARAMETER"),
                       ({"is_backupmx": "yes", "primarymx": "a)(b"}, "INVALID_PARAMETER"),
                       ({"is_backupmx": "maybe"}, "INVALID_PARAMETER")):
        assert reply(put(client, admin_cookies, domain, **data)) == (400, False, code)
    assert mailstack.lookup("relay_domains", domain) == []   # nothing changed
    assert mailstack.lookup("transport_maps_domain", domain) == [
        base_settings.default_mta_transport]


def test_backup_mx_found_by_dns(client, admin_cookies, domain, mailstack):
    """`is_backupmx=yes` without `primarymx`: Postfix relays the domain (and its alias
    domains, each by its own MX records) to the next hop DNS names, the primary MX."""
    alias = new_name()
    put(client, admin_cookies, domain, addAliasDomain=alias)
    assert reply(put(client, admin_cookies, domain, is_backupmx="yes")) == (200, True, None)
    assert profile(client, admin_cookies, domain)["domainBackupMX"] == "yes"
    assert mailstack.lookup("relay_domains", domain) == [domain]
    assert mailstack.lookup("virtual_mailbox_domains", domain) == []
    assert mailstack.lookup("transport_maps_domain", domain) == ["relay:"]
    assert mailstack.route("a@" + domain) == Route("relay", domain, True)
    assert mailstack.route("a@" + alias) == Route("relay", alias, True)
    # From a primary MX given before to DNS, and back; an empty primarymx is none.
    put(client, admin_cookies, domain, is_backupmx="yes", primarymx="mx.example.org")
    assert mailstack.route("a@" + domain) == Route("relay", "[mx.example.org]", False)
    put(client, admin_cookies, domain, is_backupmx="yes", primarymx="")
    assert mailstack.route("a@" + domain) == Route("relay", domain, True)


def test_disable_and_enable_domain(client, admin_cookies, domain, directory, layout,
                                   mailstack):
    users = [f"u{i}@{domain}" for i in range(3)]
    for mail in users:
        helpers.add_mail_user(directory, layout, mail)
    assert mailstack.dovecot_finds(users[0])
    result = put(client, admin_cookies, domain, accountStatus="disabled")
    assert reply(result) == (200, True, None)
    assert result.json["_data"] == {"changed": 3, "failed": []}
    assert not any(mailstack.dovecot_finds(m) for m in users)
    assert mailstack.lookup("virtual_mailbox_domains", domain) == []
    again = put(client, admin_cookies, domain, accountStatus="disabled")
    assert again.json["_data"] == {"changed": 0, "failed": []}  # idempotent
    result = put(client, admin_cookies, domain, accountStatus="active")
    assert result.json["_data"] == {"changed": 3, "failed": []}
    assert all(mailstack.dovecot_finds(m) for m in users)
    assert mailstack.lookup("virtual_mailbox_domains", domain) == [domain]


def test_alias_domains(client, admin_cookies, domain, directory, layout, mailstack):
    mail = f"anna@{domain}"
    helpers.add_mail_user(directory, layout, mail, enabledService=[
        "mail", "deliver", "imap", "shadowaddress"])
    alias = new_name()
    result = put(client, admin_cookies, domain, addAliasDomain=alias)
    assert reply(result) == (200, True, None) and result.json["_data"]["changed"] == 1
    data = profile(client, admin_cookies, domain)
    assert data["domainAliasName"] == [alias] and "domainalias" in data["enabledService"]
    assert mailstack.lookup("virtual_mailbox_domains", alias) == [domain]
    assert mailstack.lookup("virtual_mailbox_maps", f"anna@{alias}") == [
        directory.get(layout.user_dn(mail)).first("homeDirectory")]
    assert mailstack.dovecot_finds(f"anna@{alias}")
    result = put(client, admin_cookies, domain, removeAliasDomain=alias)
    assert result.json["_data"]["changed"] == 1
    assert mailstack.lookup("virtual_mailbox_domains", alias) == []
    assert mailstack.lookup("virtual_mailbox_maps", f"anna@{alias}") == []
    assert "domainalias" not in profile(client, admin_cookies, domain)["enabledService"]
    two, three = new_name(), new_name()
    put(client, admin_cookies, domain, aliasDomains=f"{two},{three}")
    assert sorted(profile(client, admin_cookies, domain)["domainAliasName"]) == sorted(
        [two, three])
    assert reply(put(client, admin_cookies, domain, aliasDomains=two,
                     addAliasDomain=three)) == (400, False, "CONFLICTING_PARAMETERS")
    assert reply(put(client, admin_cookies, domain, addAliasDomain=domain))[2] == (
        "INVALID_PARAMETER")
    assert reply(put(client, admin_cookies, domain, addAliasDomain="example.com"))[2] == (
        "ALREADY_EXISTS")


def test_catchall(client, admin_cookies, domain, directory, layout, mailstack):
    target = f"boss@{domain}"
    helpers.add_mail_user(directory, layout, target)
    assert reply(put(client, admin_cookies, domain, catchall=f"{target},ext@example.org")) == (
        200, True, None)
    assert profile(client, admin_cookies, domain)["catchall"] == [target, "ext@example.org"]
    assert mailstack.lookup("catchall_maps", "@" + domain) == sorted(
        [target, "ext@example.org"])
    put(client, admin_cookies, domain, catchall="ext@example.org")
    assert mailstack.lookup("catchall_maps", "@" + domain) == ["ext@example.org"]
    result = put(client, admin_cookies, domain, catchall=f"missing@{domain}")
    assert reply(result) == (400, False, "INVALID_CATCHALL")
    assert mailstack.lookup("catchall_maps", "@" + domain) == ["ext@example.org"]
    put(client, admin_cookies, domain, catchall="")
    assert mailstack.lookup("catchall_maps", "@" + domain) == []
    assert profile(client, admin_cookies, domain)["catchall"] == []


@pytest.mark.parametrize("data, code", [
    ({}, "MISSING_PARAMETER"), ({"bogus": "1"}, "UNKNOWN_PARAMETER"),
    ({"accountStatus": "paused"}, "INVALID_PARAMETER"),
    ({"name": "x", "maxUserQuota": "lots"}, "INVALID_PARAMETER"),
    ({"disableDomainProfile": "everything"}, "INVALID_PARAMETER"),
    ({"enableUserProfile": "bcc", "disableUserProfile": "bcc"}, "CONFLICTING_PARAMETERS"),
    ({"catchall": "a)(b"}, "INVALID_MAIL"),
    ({"addAliasDomain": "*"}, "INVALID_DOMAIN_NAME"),
])
def test_update_bad_input_changes_nothing(client, admin_cookies, domain, directory, layout,
                                          data, code):
    before = directory.get(layout.domain_dn(domain)).attrs
    assert reply(put(client, admin_cookies, domain, **data)) == (400, False, code)
    assert directory.get(layout.domain_dn(domain)).attrs == before


def test_missing_domain(client, admin_cookies):
    for result in (client.simulate_get("/api/domain/absent-domain.test", cookies=admin_cookies),
                   put(client, admin_cookies, "absent-domain.test", name="x"),
                   client.simulate_delete("/api/domain/absent-domain.test",
                                          cookies=admin_cookies)):
        assert reply(result) == (404, False, "NO_SUCH_DOMAIN")


def test_delete_records_mailboxes(make_client, store, accounts, directory, layout, mailstack):
    client = make_client(policy=store)
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    name = new_name()
    helpers.add_domain(directory, layout, name)
    for local in ("a", "b"):
        helpers.add_mail_user(directory, layout, f"{local}@{name}")
    directory.modify(layout.domain_dn("example.com"),
                     [helpers.add_values("domainAdmin", f"a@{name}")])
    result = client.simulate_delete(f"/api/domain/{name}/keep_mailbox_days/30",
                                    cookies=cookies)
    assert reply(result) == (200, True, None)
    assert result.json["_data"] == {"changed": 7, "failed": []}  # domain, 4 ou, 2 users
    assert directory.get(layout.domain_dn(name)) is None
    assert mailstack.lookup("virtual_mailbox_domains", name) == []
    rows = [r for r in store.deleted_mailboxes() if r["domain"] == name]
    assert sorted(r["username"] for r in rows) == [f"a@{name}", f"b@{name}"]
    import datetime
    assert {r["delete_date"] for r in rows} == {
        datetime.date.today() + datetime.timedelta(days=30)}
    assert all(r["admin"] == accounts.admin_mail and r["maildir"] for r in rows)
    assert f"a@{name}" not in directory.get(layout.domain_dn("example.com")).get("domainAdmin")
    other = new_name()
    helpers.add_domain(directory, layout, other)
    helpers.add_mail_user(directory, layout, f"c@{other}")
    client.simulate_delete(f"/api/domain/{other}", cookies=cookies)
    assert [r["delete_date"] for r in store.deleted_mailboxes() if r["domain"] == other] == [
        None]
    assert reply(client.simulate_delete(f"/api/domain/{other}/keep_mailbox_days/soon",
                                        cookies=cookies))[0] in (400, 404)
