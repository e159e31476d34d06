"""Mail users: every endpoint and parameter, checked with Postfix's and Dovecot's lookups."""

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from passlib import hash as h

from iredapi_ldap.directory import Change, Op, Scope
from iredapi_ldap.services import counters as counters_module

from .. import helpers
from ..helpers import form, login, reply, session_cookie

PASSWORD = "Us3r-Passw0rd!"
MB = 1024 * 1024


def create(client, cookies, mail, **data):
    return form(client, "POST", f"/api/user/{mail}", {"password": PASSWORD, **data},
                cookies=cookies)


def put(client, cookies, mail, **data):
    return form(client, "PUT", f"/api/user/{mail}", data, cookies=cookies)


def get(client, cookies, mail):
    result = client.simulate_get(f"/api/user/{mail}", cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


def counters(directory, layout, domain):
    """(users, used quota) from the domain's counters; absent (never computed) counts as 0."""
    entry = directory.get(layout.domain_dn(domain))
    return (int(entry.first("domainCurrentUserNumber", 0)),
            int(entry.first("domainCurrentQuotaSize", 0)))


def test_create_writes_what_iredmail_writes(client, admin_cookies, domain, directory, layout,
                                            mailstack, base_settings):
    mail = f"john@{domain}"
    result = create(client, admin_cookies, mail, name="John Doe", language="en_US",
                    quota="200", employeeid="E-7", mailboxFormat="mdbox",
                    mailboxFolder="Mail")
    assert reply(result) == (200, True, None)
    data = get(client, admin_cookies, mail)
    assert sorted(data["objectClass"]) == ["amavisAccount", "inetOrgPerson", "mailUser",
                                           "shadowAccount"]
    assert (data["mail"], data["uid"], data["sn"], data["cn"]) == (mail, "john", "john",
                                                                   "John Doe")
    assert data["mailQuota"] == 200 * MB and data["employeeNumber"] == "E-7"
    assert (data["mailboxFormat"], data["mailboxFolder"]) == ("mdbox", "Mail")
    assert data["amavisLocal"] == "TRUE" and data["accountStatus"] == "active"
    assert abs(data["shadowLastChange"] - int(__import__("time").time() // 86400)) <= 1
    assert re.fullmatch(re.escape(f"{base_settings.storage_base_directory}/{domain}/j/o/h/")
                        + r"john-\d{4}\.\d\d\.\d\d\.\d\d\.\d\d\.\d\d/", data["homeDirectory"])
    assert {"mail", "deliver", "imap", "smtp", "pop3", "forward"} <= set(data["enabledService"])
    assert "userPassword" not in data
    assert mailstack.lookup("virtual_mailbox_maps", mail) == [data["homeDirectory"]]
    assert mailstack.dovecot_finds(mail, "imap") and mailstack.dovecot_finds(mail, "pop3")
    assert directory.check_password(layout.user_dn(mail), PASSWORD)  # slapd, pw-sha2
    assert counters(directory, layout, domain) == (1, 200 * MB)


def test_quota_zero_means_domain_default(client, admin_cookies, domain):
    create(client, admin_cookies, f"q@{domain}", quota="0")
    assert get(client, admin_cookies, f"q@{domain}")["mailQuota"] == 1024 * MB


def test_disabled_domain_and_alias_domains(client, admin_cookies, domain, mailstack):
    alias = f"t-{secrets.token_hex(4)}.test"
    form(client, "PUT", f"/api/domain/{domain}", {"addAliasDomain": alias},
         cookies=admin_cookies)
    create(client, admin_cookies, f"al@{domain}")
    assert get(client, admin_cookies, f"al@{domain}")["shadowAddress"] == [f"al@{alias}"]
    assert mailstack.lookup("virtual_mailbox_maps", f"al@{alias}")
    form(client, "PUT", f"/api/domain/{domain}", {"accountStatus": "disabled"},
         cookies=admin_cookies)
    create(client, admin_cookies, f"off@{domain}")
    assert get(client, admin_cookies, f"off@{domain}")["domainStatus"] == "disabled"
    assert not mailstack.dovecot_finds(f"off@{domain}")


@pytest.mark.parametrize("stored", [
    h.ldap_salted_sha512.hash(PASSWORD), h.ldap_salted_sha1.hash(PASSWORD),
    "{CRYPT}" + h.sha512_crypt.using(rounds=5000).hash(PASSWORD),
    "{SHA512-CRYPT}" + h.sha512_crypt.using(rounds=5000).hash(PASSWORD),
])
def test_password_hash_slapd_can_check(client, admin_cookies, domain, directory, layout,
                                       stored):
    mail = f"hash@{domain}"
    result = form(client, "POST", f"/api/user/{mail}", {"password_hash": stored},
                  cookies=admin_cookies)
    assert reply(result) == (200, True, None)
    kept = directory.get(layout.user_dn(mail), ["userPassword"]).first("userPassword")
    assert kept == stored.replace("{SHA512-CRYPT}", "{CRYPT}")
    assert directory.check_password(layout.user_dn(mail), PASSWORD)


@pytest.mark.parametrize("stored", ["{PLAIN}x", "{MD5}abc", "{SSHA}!!", "plain", "{NTLM}x"])
def test_password_hash_refused(client, admin_cookies, domain, stored):
    result = form(client, "POST", f"/api/user/x@{domain}", {"password_hash": stored},
                  cookies=admin_cookies)
    assert reply(result) == (400, False, "INVALID_PASSWORD_SCHEME")


@pytest.mark.parametrize("local", ["*", "a)(b", "a\\b", "a,b", "a=b", "a+b", "jörg",
                                   "x" * 65, ""])
def test_hostile_addresses_refused(client, admin_cookies, domain, local):
    assert reply(create(client, admin_cookies, f"{local}@{domain}")) == (
        400, False, "INVALID_MAIL")


@pytest.mark.parametrize("password, code", [
    ("short1!", "PW_SHORTER_THAN_MIN_LENGTH,PW_NO_UPPERCASE"),
    ("nouppercase1!", "PW_NO_UPPERCASE"), ("NoDigits!!", "PW_NO_DIGIT_NUMBER"),
    ("NoSpecial123", "PW_NO_SPECIAL_CHAR"), ("12345678!", "PW_NO_LETTER,PW_NO_UPPERCASE"),
    ("Ünïcode-123", "PW_NON_ASCII"),
])
def test_password_policy(client, admin_cookies, domain, password, code, directory, layout):
    result = create(client, admin_cookies, f"pw@{domain}", password=password)
    assert reply(result) == (400, False, code)
    assert directory.get(layout.user_dn(f"pw@{domain}")) is None


def test_domain_password_length(client, admin_cookies, domain):
    form(client, "PUT", f"/api/domain/{domain}", {"minPasswordLength": "20"},
         cookies=admin_cookies)
    assert reply(create(client, admin_cookies, f"l@{domain}"))[2] == "PW_SHORTER_THAN_MIN_LENGTH"


@pytest.mark.parametrize("data, status, code", [
    ({"quota": "lots"}, 400, "INVALID_PARAMETER"),
    ({"quota": "-5"}, 400, "INVALID_PARAMETER"),
    ({"password": ""}, 400, "MISSING_PARAMETER"),
    ({"password_hash": h.ldap_salted_sha1.hash("x")}, 400, "CONFLICTING_PARAMETERS"),
    ({"addForwarding": "b@x.test"}, 400, "UNKNOWN_PARAMETER"),  # add/remove are for PUT
    ({"bogus": "1"}, 400, "UNKNOWN_PARAMETER"),
    ({"maildir": "relative/path"}, 400, "INVALID_PARAMETER"),
    ({"mailboxFormat": "mbox"}, 400, "INVALID_PARAMETER"),
])
def test_bad_create_input(client, admin_cookies, domain, directory, layout, data, status, code):
    assert reply(create(client, admin_cookies, f"bad@{domain}", **data)) == (
        status, False, code)
    assert directory.get(layout.user_dn(f"bad@{domain}")) is None
    assert counters(directory, layout, domain) == (0, 0)


@pytest.mark.parametrize("data, code", [
    ({"forwarding": "a@x.test", "addForwarding": "b@x.test"}, "CONFLICTING_PARAMETERS"),
    ({"aliases": "a@x.test", "removeAlias": "b@x.test"}, "CONFLICTING_PARAMETERS"),
    ({"services": "mail", "addService": "imap"}, "CONFLICTING_PARAMETERS"),
    ({"password": "x", "password_hash": "{SSHA}x"}, "CONFLICTING_PARAMETERS"),
    ({"quota": "ten"}, "INVALID_PARAMETER"), ({"accountStatus": "on"}, "INVALID_PARAMETER"),
    ({"addService": "bad name"}, "INVALID_PARAMETER"), ({"sn": ""}, "INVALID_PARAMETER"),
    ({"addForwarding": "not-an-address"}, "INVALID_MAIL"), ({"uid": "x"}, "UNKNOWN_PARAMETER"),
    ({"employee_id": "1", "employeeid": "2"}, "CONFLICTING_PARAMETERS"),
    ({"employee_id": "x" * 256}, "INVALID_PARAMETER"),
])
def test_bad_update_input_changes_nothing(client, admin_cookies, domain, directory, layout,
                                          data, code):
    mail = f"keep@{domain}"
    create(client, admin_cookies, mail)
    before = directory.get(layout.user_dn(mail)).attrs
    assert reply(put(client, admin_cookies, mail, **data)) == (400, False, code)
    assert directory.get(layout.user_dn(mail)).attrs == before


def test_employee_id_and_its_older_name(client, admin_cookies, domain, directory, layout):
    """`employee_id` (iRedMail's newer name) and `employeeid` (the Pro document's) set
    `employeeNumber` on create and update; both at once are a conflict."""
    mail = f"staff@{domain}"
    assert reply(create(client, admin_cookies, mail, employee_id="E-1")) == (200, True, None)
    assert directory.get(layout.user_dn(mail)).get("employeeNumber") == ["E-1"]
    for name, value in (("employee_id", "E-2"), ("employeeid", "E-3")):
        assert reply(put(client, admin_cookies, mail, **{name: value})) == (200, True, None)
        assert get(client, admin_cookies, mail)["employeeNumber"] == value
        assert directory.get(layout.user_dn(mail)).get("employeeNumber") == [value]
    put(client, admin_cookies, mail, employee_id="")
    assert directory.get(layout.user_dn(mail)).get("employeeNumber") == []
    both = {"employee_id": "E-4", "employeeid": "E-5"}
    assert reply(create(client, admin_cookies, f"both@{domain}", **both)) == (
        400, False, "CONFLICTING_PARAMETERS")
    assert directory.get(layout.user_dn(f"both@{domain}")) is None


def test_existing_addresses_refused(client, admin_cookies, domain):
    create(client, admin_cookies, f"dup@{domain}")
    assert reply(create(client, admin_cookies, f"dup@{domain}")) == (409, False, "ALREADY_EXISTS")
    put(client, admin_cookies, f"dup@{domain}", addAlias=f"other@{domain}")
    assert reply(create(client, admin_cookies, f"other@{domain}")) == (
        409, False, "ALREADY_EXISTS")
    assert reply(create(client, admin_cookies, "u@absent-domain.test")) == (
        404, False, "NO_SUCH_DOMAIN")


def test_an_address_or_mailbox_held_by_another_entry_is_refused(
        client, admin_cookies, domain, directory, layout, accounts_made):
    """Whatever holds the new address (an alias, a list, a standalone admin: the last
    is no entry below the domains, found only by its own read) refuses the create, and
    so does a mailbox in a folder above the new one; none of them leaves an entry."""
    alias, listed, admin = (f"{name}@{domain}" for name in ("al", "li", "ad"))
    assert reply(form(client, "POST", f"/api/alias/{alias}", {}, cookies=admin_cookies))[0] \
        == 200
    assert reply(form(client, "POST", f"/api/maillist/{listed}", {},
                      cookies=admin_cookies))[0] == 200
    accounts_made.append(helpers.add_admin(directory, layout, admin))
    for mail in (alias, listed, admin):
        assert reply(create(client, admin_cookies, mail)) == (409, False, "ALREADY_EXISTS")
        assert directory.get(layout.user_dn(mail)) is None, mail
    # A user whose (custom) mailbox is the folder every new mailbox of b... lies in.
    helpers.add_mail_user(directory, layout, f"holder@{domain}",
                          homeDirectory=[f"/var/vmail/vmail1/{domain}/b/o/"])
    assert reply(create(client, admin_cookies, f"bob@{domain}")) == (
        409, False, "ALREADY_EXISTS")
    assert directory.get(layout.user_dn(f"bob@{domain}")) is None


def test_a_new_mailbox_never_takes_the_path_of_a_live_one(client, admin_cookies, domain,
                                                          directory, layout):
    """A user that has the very path a new mailbox would get (a time-stamped path given
    as its maildir) makes the new one take a later second."""
    import datetime

    from iredapi_ldap.model.maildir import maildir_path
    mail = f"again@{domain}"
    now = datetime.datetime.now()
    taken = [maildir_path("/var/vmail/vmail1", mail, now + datetime.timedelta(seconds=later))
             for later in range(3)]
    for number, path in enumerate(taken):
        helpers.add_mail_user(directory, layout, f"h{number}@{domain}", homeDirectory=[path])
    assert reply(create(client, admin_cookies, mail)) == (200, True, None)
    home = directory.get(layout.user_dn(mail), ["homeDirectory"]).first("homeDirectory")
    assert home not in taken and home.rsplit("-", 1)[0] == taken[0].rsplit("-", 1)[0]


def test_user_limits(client, admin_cookies, domain, directory, layout):
    path = f"/api/domain/{domain}"
    form(client, "PUT", path, {"numberOfUsers": "-1"}, cookies=admin_cookies)
    assert reply(create(client, admin_cookies, f"a@{domain}")) == (422, False, "EXCEEDED_LIMIT")
    form(client, "PUT", path, {"numberOfUsers": "0", "maxUserQuota": "100", "quota": "150"},
         cookies=admin_cookies)
    assert reply(create(client, admin_cookies, f"a@{domain}", quota="200"))[2] == (
        "EXCEEDED_LIMIT")
    assert reply(create(client, admin_cookies, f"a@{domain}", quota="100")) == (200, True, None)
    assert reply(create(client, admin_cookies, f"b@{domain}", quota="100"))[2] == (
        "EXCEEDED_LIMIT")  # the domain quota (150 MB) would be exceeded
    assert reply(create(client, admin_cookies, f"b@{domain}", quota="50")) == (200, True, None)
    assert counters(directory, layout, domain) == (2, 150 * MB)


def test_parallel_creates_respect_the_limit(make_client, accounts, domain, directory, layout):
    client = make_client()
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    form(client, "PUT", f"/api/domain/{domain}", {"numberOfUsers": "5"}, cookies=cookies)

    def one(i):
        own = make_client()  # its own app and directory connection, like a worker
        return reply(create(own, cookies, f"race{i:02d}@{domain}", quota="10"))
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    created = list(directory.search(layout.container_dn(domain, "Users"),
                                    "(objectClass=mailUser)", Scope.ONE, ["mail"]))
    assert results.count((200, True, None)) == 5, results
    assert results.count((422, False, "EXCEEDED_LIMIT")) == 15, results
    assert len(created) == 5
    assert counters(directory, layout, domain) == (5, 50 * MB)


def test_counting_a_domain_never_overwrites_counters_stored_meanwhile(repo, directory, layout,
                                                                    domain):
    """A request that finds a domain without counters counts it; if another request stored
    counters (and reserved on them) in the meantime, those must stand."""
    helpers.add_mail_user(directory, layout, f"one@{domain}")
    dn = layout.domain_dn(domain)
    stale = directory.get(dn, list(counters_module.ATTRIBUTES))  # read: no counters yet
    directory.modify(dn, [helpers.replace("domainCurrentUserNumber", "7"),
                          helpers.replace("domainCurrentAliasNumber", "0"),
                          helpers.replace("domainCurrentListNumber", "0"),
                          helpers.replace("domainCurrentQuotaSize", "5")])
    found = counters_module.ensure_counters(repo, domain, stale)
    assert found["domainCurrentUserNumber"] == 7 and found["domainCurrentQuotaSize"] == 5
    assert counters(directory, layout, domain) == (7, 5)
    # Without anyone racing, a domain without counters gets them counted and stored.
    directory.modify(dn, [Change(a, Op.DELETE) for a in counters_module.ATTRIBUTES])
    found = counters_module.ensure_counters(repo, domain, directory.get(dn, ["domainName"]))
    assert found["domainCurrentUserNumber"] == 1
    assert counters(directory, layout, domain)[0] == 1


def test_update_every_parameter(client, admin_cookies, domain, mailstack, directory, layout):
    mail = f"ed@{domain}"
    target = f"target@{domain}"
    create(client, admin_cookies, mail)
    create(client, admin_cookies, target)
    assert reply(put(client, admin_cookies, mail, name="Ed", gn="Edward", sn="Stone",
                     language="de_DE", employeeid="42", transport="smtp:[192.0.2.1]",
                     telephoneNumber="+1 555 0100,+1 555 0101", mobile="+1 555 0199",
                     mailboxFormat="sdbox", mailboxFolder="Box", quota="300",
                     maildir="/var/vmail/vmail1/Elsewhere/Ed", senderBcc="sbcc@example.org",
                     recipientBcc="rbcc@example.org")) == (200, True, None)
    data = get(client, admin_cookies, mail)
    assert (data["cn"], data["givenName"], data["sn"]) == ("Ed", "Edward", "Stone")
    assert data["preferredLanguage"] == "de_DE" and data["employeeNumber"] == "42"
    assert data["mtaTransport"] == "smtp:[192.0.2.1]"
    assert data["telephoneNumber"] == ["+1 555 0100", "+1 555 0101"]
    assert data["mobile"] == ["+1 555 0199"]
    assert (data["mailboxFormat"], data["mailboxFolder"]) == ("sdbox", "Box")
    assert data["mailQuota"] == 300 * MB
    assert data["homeDirectory"] == "/var/vmail/vmail1/elsewhere/ed/"  # lower-cased, as iRedAdmin
    assert mailstack.lookup("sender_bcc_maps_user", mail) == ["sbcc@example.org"]
    assert mailstack.lookup("recipient_bcc_maps_user", mail) == ["rbcc@example.org"]
    assert counters(directory, layout, domain)[1] == (300 + 1024) * MB
    put(client, admin_cookies, mail, senderBcc="")
    assert mailstack.lookup("sender_bcc_maps_user", mail) == []


def test_forwarding(client, admin_cookies, domain, mailstack):
    mail, target = f"fw@{domain}", f"fwt@{domain}"
    create(client, admin_cookies, mail)
    create(client, admin_cookies, target)
    assert reply(put(client, admin_cookies, mail, forwarding=f"{target},ext@example.org")) == (
        200, True, None)
    assert mailstack.lookup("virtual_alias_maps", mail) == sorted([target, "ext@example.org"])
    put(client, admin_cookies, mail, addForwarding=mail, removeForwarding="ext@example.org")
    assert mailstack.lookup("virtual_alias_maps", mail) == sorted([target, mail])
    assert reply(put(client, admin_cookies, mail, addForwarding=f"ghost@{domain}")) == (
        400, False, "INVALID_FORWARDING")
    put(client, admin_cookies, mail, forwarding="")
    assert mailstack.lookup("virtual_alias_maps", mail) == []


def test_per_user_aliases(client, admin_cookies, domain, mailstack):
    mail = f"al@{domain}"
    create(client, admin_cookies, mail)
    create(client, admin_cookies, f"taken@{domain}")
    assert reply(put(client, admin_cookies, mail, aliases=f"a1@{domain},a2@{domain}")) == (
        200, True, None)
    home = get(client, admin_cookies, mail)["homeDirectory"]
    assert mailstack.lookup("virtual_mailbox_maps", f"a1@{domain}") == [home]
    assert mailstack.dovecot_finds(f"a2@{domain}")
    put(client, admin_cookies, mail, removeAlias=f"a1@{domain}")
    assert mailstack.lookup("virtual_mailbox_maps", f"a1@{domain}") == []
    for alias, status, code in ((f"taken@{domain}", 409, "ALREADY_EXISTS"),
                                ("x@elsewhere.example", 400, "INVALID_ALIAS"),
                                (mail, 409, "ALREADY_EXISTS")):
        assert reply(put(client, admin_cookies, mail, addAlias=alias)) == (status, False, code)


def test_services_and_status_reach_dovecot(client, admin_cookies, domain, mailstack):
    mail = f"svc@{domain}"
    create(client, admin_cookies, mail)
    put(client, admin_cookies, mail, removeService="imap")
    assert not mailstack.dovecot_finds(mail, "imap") and mailstack.dovecot_finds(mail, "pop3")
    put(client, admin_cookies, mail, addService="imap,vpn")
    assert mailstack.dovecot_finds(mail, "imap")
    assert "vpn" in get(client, admin_cookies, mail)["enabledService"]
    put(client, admin_cookies, mail, services="mail,smtp,pop3,deliver")
    assert sorted(get(client, admin_cookies, mail)["enabledService"]) == [
        "deliver", "mail", "pop3", "smtp"]
    put(client, admin_cookies, mail, accountStatus="disabled")
    assert not mailstack.dovecot_finds(mail, "pop3")
    assert mailstack.lookup("virtual_mailbox_maps", mail) == []


def test_password_change_binds_through_slapd(client, admin_cookies, domain, directory, layout):
    mail = f"pwc@{domain}"
    create(client, admin_cookies, mail)
    put(client, admin_cookies, mail, password="An0ther-Passw0rd")
    assert directory.check_password(layout.user_dn(mail), "An0ther-Passw0rd")
    assert not directory.check_password(layout.user_dn(mail), PASSWORD)
    path = f"/api/verify_password/user/{mail}"
    assert reply(form(client, "POST", path, {"password": "An0ther-Passw0rd"},
                      cookies=admin_cookies)) == (200, True, None)
    assert reply(form(client, "POST", path, {"password": PASSWORD}, cookies=admin_cookies))[2] \
        == "PW_MISMATCH"


def test_global_admin_flag(client, admin_cookies, domain, domain_admin):
    mail = f"boss@{domain}"
    create(client, admin_cookies, mail)
    cookies = session_cookie(login(client, domain_admin))
    assert reply(put(client, cookies, mail, isGlobalAdmin="yes")) == (
        403, False, "PERMISSION_DENIED")
    assert reply(put(client, admin_cookies, mail, isGlobalAdmin="yes")) == (200, True, None)
    data = get(client, admin_cookies, mail)
    assert data["domainGlobalAdmin"] == "yes" and "managed_domains" in data
    assert reply(login(client, mail, PASSWORD)) == (200, True, None)


def test_list_users(client, admin_cookies, domain):
    for local in ("b", "a", "c"):
        create(client, admin_cookies, f"{local}@{domain}")
    form(client, "PUT", f"/api/domain/{domain}", {"catchall": f"a@{domain}"},
         cookies=admin_cookies)
    put(client, admin_cookies, f"c@{domain}", accountStatus="disabled")
    names = client.simulate_get(f"/api/users/{domain}", params={"email_only": "yes"},
                                cookies=admin_cookies).json["_data"]
    assert sorted(names) == [f"a@{domain}", f"b@{domain}", f"c@{domain}"]
    disabled = client.simulate_get(f"/api/users/{domain}", params={"disabled_only": "yes"},
                                   cookies=admin_cookies).json["_data"]
    assert [u["mail"] for u in disabled] == [f"c@{domain}"]
    assert all("userPassword" not in u for u in disabled)


def test_delete_leaves_no_reference(make_client, store, accounts, domain, directory, layout):
    client = make_client(policy=store)
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    mail, other = f"gone@{domain}", f"stay@{domain}"
    create(client, cookies, mail, quota="10")
    create(client, cookies, other)
    put(client, cookies, other, forwarding=f"{mail},{other}")
    form(client, "PUT", f"/api/domain/{domain}", {"catchall": mail}, cookies=cookies)
    form(client, "PUT", f"/api/domain/admins/{domain}", {"addAdmin": mail}, cookies=cookies)
    directory.add(f"mail=list@{domain},{layout.container_dn(domain, 'Aliases')}", {
        "objectClass": ["mailAlias"], "mail": [f"list@{domain}"],
        "mailForwardingAddress": [mail, other]})
    home = get(client, cookies, mail)["homeDirectory"]
    before = counters(directory, layout, domain)
    result = client.simulate_delete(f"/api/user/{mail}/keep_mailbox_days/7", cookies=cookies)
    assert reply(result) == (200, True, None)
    leftovers = list(directory.search(layout.basedn.split(",", 1)[1], f"(|(mail={mail})"
                                      f"(shadowAddress={mail})(mailForwardingAddress={mail})"
                                      f"(domainAdmin={mail})(memberOfGroup={mail}))"))
    assert leftovers == []
    assert counters(directory, layout, domain) == (before[0] - 1, before[1] - 10 * MB)
    rows = [r for r in store.deleted_mailboxes() if r["username"] == mail]
    assert [(r["maildir"], r["admin"]) for r in rows] == [(home, accounts.admin_mail)]
    assert reply(client.simulate_delete(f"/api/user/{mail}", cookies=cookies)) == (
        404, False, "NO_SUCH_ACCOUNT")


def test_other_domains_are_out_of_reach(client, admin_cookies, domain, domain_admin):
    cookies = session_cookie(login(client, domain_admin))
    assert reply(create(client, cookies, f"mine@{domain}")) == (200, True, None)
    for result in (create(client, cookies, "x@example.com"),
                   client.simulate_get("/api/user/postmaster@example.com", cookies=cookies),
                   put(client, cookies, "postmaster@example.com", name="x"),
                   client.simulate_delete("/api/user/postmaster@example.com", cookies=cookies),
                   client.simulate_get("/api/users/example.com", cookies=cookies)):
        assert reply(result) == (403, False, "PERMISSION_DENIED")


def test_change_email_in_the_domain(client, admin_cookies, domain, directory, layout,
                                    mailstack):
    old, new, friend = f"old@{domain}", f"new@{domain}", f"friend@{domain}"
    alias = f"t-{secrets.token_hex(4)}.test"
    form(client, "PUT", f"/api/domain/{domain}", {"addAliasDomain": alias},
         cookies=admin_cookies)
    create(client, admin_cookies, old)
    create(client, admin_cookies, friend)
    put(client, admin_cookies, friend, forwarding=old)
    form(client, "PUT", f"/api/domain/admins/{domain}", {"addAdmin": old}, cookies=admin_cookies)
    before = directory.get(layout.user_dn(old), ["homeDirectory", "userPassword"])
    result = form(client, "POST", f"/api/user/{old}/change_email/{new}", {},
                  cookies=admin_cookies)
    assert reply(result) == (200, True, None)
    after = directory.get(layout.user_dn(new), ["homeDirectory", "userPassword", "uid",
                                                "shadowAddress", "mail"])
    assert after.first("homeDirectory") == before.first("homeDirectory")
    assert after.first("userPassword") == before.first("userPassword")
    assert (after.first("mail"), after.first("uid")) == (new, "new")
    assert after.get("shadowAddress") == [f"new@{alias}"]
    assert directory.check_password(layout.user_dn(new), PASSWORD)
    assert mailstack.lookup("virtual_alias_maps", friend) == [new]
    assert mailstack.lookup("virtual_mailbox_maps", new) == [before.first("homeDirectory")]
    assert mailstack.lookup("virtual_mailbox_maps", f"old@{alias}") == []
    leftovers = list(directory.search(layout.basedn, f"(|(mail={old})(shadowAddress={old})"
                                      f"(mailForwardingAddress={old})(domainAdmin={old}))"))
    assert leftovers == []
    assert reply(form(client, "POST", f"/api/user/{new}/change_email/{friend}", {},
                      cookies=admin_cookies)) == (409, False, "ALREADY_EXISTS")


def test_change_email_to_another_domain_moves_counts(client, admin_cookies, domain,
                                                     directory, layout, domain_admin):
    other = f"t-{secrets.token_hex(4)}.test"
    form(client, "POST", f"/api/domain/{other}", {"name": "x"}, cookies=admin_cookies)
    try:
        create(client, admin_cookies, f"mover@{domain}", quota="20")
        result = form(client, "POST", f"/api/user/mover@{domain}/change_email/mover@{other}",
                      {}, cookies=admin_cookies)
        assert reply(result) == (200, True, None)
        assert counters(directory, layout, domain) == (0, 0)
        assert counters(directory, layout, other) == (1, 20 * MB)
        # a normal admin may not move users into a domain it does not manage
        cookies = session_cookie(login(client, domain_admin))
        create(client, admin_cookies, f"stay@{domain}")
        result = form(client, "POST", f"/api/user/stay@{domain}/change_email/stay@{other}",
                      {}, cookies=cookies)
        assert reply(result) == (403, False, "PERMISSION_DENIED")
        assert directory.get(layout.user_dn(f"stay@{domain}")) is not None
    finally:
        directory.delete(layout.domain_dn(other), subtree=True)


def test_update_all_users(client, admin_cookies, domain, mailstack, directory, layout):
    users = [f"bulk{i}@{domain}" for i in range(4)]
    for mail in users:
        create(client, admin_cookies, mail)
    put(client, admin_cookies, users[0], accountStatus="disabled")
    path = f"/api/users/{domain}"
    result = form(client, "PUT", path, {"accountStatus": "disabled", "language": "fr_FR"},
                  cookies=admin_cookies)
    assert reply(result) == (200, True, None)
    assert result.json["_data"] == {"changed": 4, "failed": []}  # language changed on all
    assert not any(mailstack.dovecot_finds(m) for m in users)
    again = form(client, "PUT", path, {"accountStatus": "disabled", "language": "fr_FR"},
                 cookies=admin_cookies)
    assert again.json["_data"] == {"changed": 0, "failed": []}  # nothing left to do
    result = form(client, "PUT", path, {"accountStatus": "active",
                                        "password": "Bulk-Passw0rd!"}, cookies=admin_cookies)
    assert result.json["_data"]["changed"] == 4
    assert all(directory.check_password(layout.user_dn(m), "Bulk-Passw0rd!") for m in users)
    stored = {directory.get(layout.user_dn(m)).first("userPassword") for m in users}
    assert len(stored) == 4  # each user its own salt
    for data, code in (({"password": "weak"}, "PW_SHORTER_THAN_MIN_LENGTH,PW_NO_UPPERCASE,"
                                              "PW_NO_DIGIT_NUMBER,PW_NO_SPECIAL_CHAR"),
                       ({"quota": "1"}, "UNKNOWN_PARAMETER"), ({}, "MISSING_PARAMETER"),
                       ({"accountStatus": "x"}, "INVALID_PARAMETER")):
        assert reply(form(client, "PUT", path, data, cookies=admin_cookies)) == (
            400, False, code)


def test_admin_own_user_limits(client, admin_cookies, domain, directory, layout):
    mail = f"lim-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, mail,
                      accountSetting=["create_max_users:2", "create_max_quota:1",
                                      "create_quota_unit:GB"])
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", mail)])
    try:
        cookies = session_cookie(login(client, mail))
        assert reply(create(client, cookies, f"one@{domain}", quota="600")) == (200, True, None)
        assert reply(create(client, cookies, f"two@{domain}", quota="600"))[2] == (
            "EXCEEDED_LIMIT")  # 1.2 GB > the admin's 1 GB
        assert reply(create(client, cookies, f"two@{domain}", quota="400")) == (200, True, None)
        assert reply(create(client, cookies, f"three@{domain}", quota="1"))[2] == (
            "EXCEEDED_LIMIT")  # a third user
    finally:
        directory.delete(layout.admin_dn(mail))


def test_failed_create_leaves_nothing(make_client, accounts, domain, directory, layout):
    client = make_client()
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    create(client, cookies, f"first@{domain}", quota="5")
    before = counters(directory, layout, domain)
    failing = make_client(directory=helpers.Refusing(directory, "add"))
    result = create(failing, cookies, f"second@{domain}", quota="7")
    assert reply(result) == (503, False, "DIRECTORY_UNAVAILABLE")
    assert directory.get(layout.user_dn(f"second@{domain}")) is None
    assert counters(directory, layout, domain) == before  # the reservation was given back


def test_create_with_aliases_and_forwarding(client, admin_cookies, domain, mailstack):
    mail = f"full@{domain}"
    result = create(client, admin_cookies, mail, aliases=f"f1@{domain}",
                    forwarding=f"{mail},ext@example.org", employeeid="77",
                    transport="dovecot")
    assert reply(result) == (200, True, None)
    data = get(client, admin_cookies, mail)
    assert data["shadowAddress"] == [f"f1@{domain}"]
    assert data["employeeNumber"] == "77" and data["mtaTransport"] == "dovecot"
    assert mailstack.lookup("virtual_mailbox_maps", f"f1@{domain}") == [data["homeDirectory"]]
    assert mailstack.lookup("virtual_alias_maps", mail) == sorted([mail, "ext@example.org"])


def test_update_of_plain_attributes_needs_a_mail_user(client, admin_cookies, domain,
                                                     domain_admin, directory, layout):
    """A global admin's PUT of whole attributes writes without reading first; it must still
    answer like the other updates when there is no such user."""
    assert reply(put(client, admin_cookies, f"nobody@{domain}", name="X")) == (
        404, False, "NO_SUCH_ACCOUNT")
    assert reply(put(client, admin_cookies, "x@absent-domain.test", name="X")) == (
        404, False, "NO_SUCH_DOMAIN")
    other = f"person@{domain}"  # an entry in ou=Users that is not a mail user
    directory.add(layout.user_dn(other), {"objectClass": ["inetOrgPerson"], "mail": [other],
                                          "cn": ["person"], "sn": ["person"]})
    assert reply(put(client, admin_cookies, other, name="X", telephoneNumber="1")) == (
        404, False, "NO_SUCH_ACCOUNT")
    assert directory.get(layout.user_dn(other)).first("cn") == "person"
    admin = session_cookie(login(client, domain_admin))  # a normal admin: the full path
    assert reply(put(client, admin, f"nobody@{domain}", name="X")) == (
        404, False, "NO_SUCH_ACCOUNT")
    mail = f"plain@{domain}"
    create(client, admin_cookies, mail)
    assert reply(put(client, admin_cookies, mail, name="Plain", telephoneNumber="1,2",
                     language="de_DE")) == (200, True, None)
    assert reply(put(client, admin_cookies, mail, telephoneNumber="")) == (200, True, None)
    data = get(client, admin_cookies, mail)
    assert (data["cn"], data["preferredLanguage"]) == ("Plain", "de_DE")
    assert "telephoneNumber" not in data


def test_get_missing_user_or_domain(client, admin_cookies, domain):
    assert reply(client.simulate_get(f"/api/user/nobody@{domain}", cookies=admin_cookies)) == (
        404, False, "NO_SUCH_ACCOUNT")
    assert reply(client.simulate_get("/api/user/x@absent-domain.test",
                                      cookies=admin_cookies)) == (404, False, "NO_SUCH_DOMAIN")
    assert reply(client.simulate_get(f"/api/alias/nobody@{domain}", cookies=admin_cookies)) == (
        404, False, "NO_SUCH_ACCOUNT")
