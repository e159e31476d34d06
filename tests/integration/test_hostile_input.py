"""Hostile input: every identifier matches whole, every number is bounded, every body is read
strictly, and none of it is ever a 500 or a change."""

import json
import secrets

import pytest

from .. import helpers
from ..helpers import form, reply

HUGE = "9" * 4301  # one digit past Python's int-conversion limit


def test_a_trailing_newline_is_not_the_domain(client, admin_cookies, domain, directory, layout):
    for method in ("GET", "PUT", "POST", "DELETE"):
        result = form(client, method, f"/api/domain/{domain}%0A", {"name": "x"}
                      if method in ("PUT", "POST") else {}, cookies=admin_cookies)
        assert reply(result) == (400, False, "INVALID_DOMAIN_NAME"), method
    for suffix in ("%0A", "%20", "%09", "%0D%0A"):
        result = client.simulate_get(f"/api/domain/{domain}{suffix}", cookies=admin_cookies)
        assert reply(result)[2] == "INVALID_DOMAIN_NAME"
    result = client.simulate_delete(f"/api/domain/%20{domain}", cookies=admin_cookies)
    assert reply(result)[2] == "INVALID_DOMAIN_NAME"
    entry = directory.get(layout.domain_dn(domain), ["cn"])
    assert entry is not None and entry.first("cn") is None


def test_a_trailing_newline_is_not_the_user(client, admin_cookies, domain, directory, layout):
    mail = f"nl@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    for method, path in (("GET", f"/api/user/{mail}%0A"), ("DELETE", f"/api/user/{mail}%0A"),
                         ("PUT", f"/api/user/{mail}%0A"),
                         ("POST", f"/api/user/{mail}/change_email/x{mail}%0A"),
                         ("GET", f"/api/spampolicy/user/{mail}%0A"),
                         ("GET", f"/api/throttle/{mail}%0A/inbound"),
                         ("GET", f"/api/ldif/user/{mail}%0A")):
        data = {"accountStatus": "disabled"} if method == "PUT" else {}
        result = form(client, method, path, data, cookies=admin_cookies)
        assert reply(result)[:2] == (400, False), (method, path, result.json)
        assert result.json["_msg"] in ("INVALID_MAIL", "INVALID_DOMAIN_NAME")
    entry = directory.get(layout.user_dn(mail), ["accountStatus"])
    assert entry.first("accountStatus") == "active"
    result = helpers.login(client, f"{mail}\n", helpers.PASSWORD)
    assert reply(result) == (400, False, "INVALID_MAIL")


def _huge_number_requests(domain, mail):
    return [
        ("POST", f"/api/domain/n{domain}", {"name": "x", "quota": HUGE}),
        ("POST", f"/api/domain/n{domain}", {"name": "x", "numberOfUsers": HUGE}),
        ("PUT", f"/api/domain/{domain}", {"maxUserQuota": HUGE}),
        ("PUT", f"/api/domain/{domain}", {"minPasswordLength": HUGE}),
        ("POST", f"/api/user/new@{domain}", {"password": "Abcdefgh1!x", "quota": HUGE}),
        ("PUT", f"/api/user/{mail}", {"quota": HUGE}),
        ("POST", "/api/admin/huge@admins.example.net",
         {"password": "Abcdefgh1!x", "maxUsers": HUGE}),
        ("POST", "/api/admin/huge@admins.example.net",
         {"password": "Abcdefgh1!x", "maxDomains": HUGE}),
        ("POST", "/api/admin/huge@admins.example.net",
         {"password": "Abcdefgh1!x", "maxQuota": HUGE, "quotaUnit": "GB"}),
        ("POST", f"/api/throttle/{domain}/inbound", {"period": HUGE, "max_msgs": "5"}),
        ("POST", f"/api/throttle/{mail}/outbound", {"period": "60", "max_msgs": HUGE}),
        ("PUT", f"/api/spampolicy/domain/{domain}", {"spam_score": HUGE}),
        ("DELETE", f"/api/user/{mail}/keep_mailbox_days/{HUGE}", {}),
        ("DELETE", f"/api/domain/{domain}/keep_mailbox_days/{HUGE}", {}),
    ]


def test_numbers_of_thousands_of_digits_are_bad_parameters(client, admin_cookies, domain,
                                                            directory, layout):
    mail = f"num@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    for method, path, data in _huge_number_requests(domain, mail):
        result = form(client, method, path, data, cookies=admin_cookies)
        assert reply(result) == (400, False, "INVALID_PARAMETER"), (method, path, result.json)
    assert directory.get(layout.user_dn(mail), ["1.1"]) is not None
    assert directory.get(layout.admin_dn("huge@admins.example.net"), ["1.1"]) is None
    assert directory.get(layout.domain_dn(f"n{domain}"), ["1.1"]) is None


def test_an_empty_name_is_refused_for_a_user_and_left_out_for_a_domain(client, admin_cookies,
                                                                       domain, directory,
                                                                       layout):
    mail = f"named@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    assert reply(form(client, "PUT", f"/api/user/{mail}", {"name": ""},
                      cookies=admin_cookies)) == (400, False, "INVALID_PARAMETER")
    assert reply(form(client, "POST", f"/api/user/other@{domain}",
                      {"password": "Abcdefgh1!x", "name": ""},
                      cookies=admin_cookies)) == (400, False, "INVALID_PARAMETER")
    assert directory.get(layout.user_dn(mail), ["cn"]).first("cn") == "named"
    assert directory.get(layout.user_dn(f"other@{domain}"), ["1.1"]) is None
    # A domain's name is optional (the newest Pro document): empty, the domain has no cn.
    assert reply(form(client, "POST", f"/api/domain/{domain}", {"name": ""},
                      cookies=admin_cookies)) == (409, False, "ALREADY_EXISTS")
    try:
        assert reply(form(client, "POST", f"/api/domain/n{domain}", {"name": ""},
                          cookies=admin_cookies)) == (200, True, None)
        assert directory.get(layout.domain_dn(f"n{domain}"), ["cn"]).get("cn") == []
    finally:
        directory.delete(layout.domain_dn(f"n{domain}"), subtree=True)


def _json(client, method, path, text, cookies):
    return client.simulate_request(method, path, body=text.encode(), cookies=cookies,
                                   headers={"Content-Type": "application/json"})


def test_json_that_python_would_choke_on(client, admin_cookies, domain, directory, layout):
    mail = f"js@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    path = f"/api/user/{mail}"
    bodies = ['{"name": "\\ud800"}', '{"name": "a\\udfffb"}', '{"\\ud800": "x"}',
              '{"name": ["\\udc00"]}', "[" * 100_000 + "]" * 100_000,
              '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}",
              '{"name": "a", "name": "b"}', '{"quota": ' + HUGE + "}"]
    for text in bodies:
        result = _json(client, "PUT", path, text, admin_cookies)
        assert result.status_code == 400, text[:40]
        body = json.loads(result.text)  # a complete reply, never an empty body
        assert body["_success"] is False and body["_msg"] == "INVALID_PARAMETER"
    assert directory.get(layout.user_dn(mail), ["cn"]).first("cn") == "js"


def test_domain_name_lengths(client, admin_cookies, directory, layout):
    """RFC 1035 allows 253 characters and labels of 63; slapd's back-mdb stores RDNs of at
    most 245 characters (domainName values of 234). Longer is INVALID_DOMAIN_NAME, never a
    directory error."""
    label = "a" * 63
    rfc_longest = ".".join([label, label, label, "b" * 56 + ".test"])
    assert len(rfc_longest) == 253
    stored_longest = rfc_longest[-234:].lstrip(".")
    for name in ("c" + rfc_longest, "d" * 64 + ".test", rfc_longest, "e" + stored_longest):
        result = form(client, "POST", f"/api/domain/{name}", {"name": "x"},
                      cookies=admin_cookies)
        assert reply(result) == (400, False, "INVALID_DOMAIN_NAME"), len(name)
    try:
        result = form(client, "POST", f"/api/domain/{stored_longest}", {"name": "x"},
                      cookies=admin_cookies)
        assert reply(result) == (200, True, None)
        # Its users' addresses and mailbox paths would be too long for the directory and
        # for iRedAdmin's deleted_mailboxes.maildir (VARCHAR(255)): refused, nothing written.
        for local in ("u", "uvwxy"):
            result = form(client, "POST", f"/api/user/{local}@{stored_longest}",
                          {"password": "Abcdefgh1!x"}, cookies=admin_cookies)
            assert reply(result)[:2] == (400, False)
            assert result.json["_msg"] in ("INVALID_MAIL", "INVALID_PARAMETER")
        result = form(client, "POST", f"/api/alias/al@{stored_longest}", {},
                      cookies=admin_cookies)
        assert reply(result) == (400, False, "INVALID_MAIL")
    finally:
        directory.delete(layout.domain_dn(stored_longest), subtree=True)


def test_secrets_and_parameters_stay_out_of_urls(client, admin_cookies, accounts, domain,
                                                 directory, layout):
    mail = f"url@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    result = client.simulate_post(
        "/api/login", query_string=f"username={accounts.admin_mail}&password=x")
    assert reply(result) == (400, False, "INVALID_PARAMETER")
    result = form(client, "POST", "/api/login", {"username": accounts.admin_mail,
                                                 "password": accounts.admin_password},
                  query_string="password=other")
    assert reply(result) == (400, False, "INVALID_PARAMETER") and not result.cookies
    result = client.simulate_put(f"/api/user/{mail}", query_string="password=N3w-Passw0rd!",
                                 cookies=admin_cookies)
    assert reply(result) == (400, False, "INVALID_PARAMETER")
    # A parameter in both places, once in the query string: refused, not merged.
    result = form(client, "PUT", f"/api/user/{mail}", {"accountStatus": "active"},
                  query_string="accountStatus=disabled", cookies=admin_cookies)
    assert reply(result) == (400, False, "INVALID_PARAMETER")
    assert directory.check_password(layout.user_dn(mail), helpers.PASSWORD)
    assert directory.get(layout.user_dn(mail), ["accountStatus"]).first(
        "accountStatus") == "active"


def test_percent_escapes_must_be_utf8(client, admin_cookies, domain, directory, layout):
    mail = f"pct@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    for body in ("name=%FF", "name=a%C3", "na%FFme=x", "name=a%ED%A0%80"):
        result = client.simulate_put(f"/api/user/{mail}", body=body, cookies=admin_cookies,
                                     headers={"Content-Type":
                                              "application/x-www-form-urlencoded"})
        assert reply(result) == (400, False, "INVALID_PARAMETER"), body
    result = client.simulate_get(f"/api/users/{domain}", query_string="email_only=%FF",
                                 cookies=admin_cookies)
    assert reply(result) == (400, False, "INVALID_PARAMETER")
    assert directory.get(layout.user_dn(mail), ["cn"]).first("cn") == "pct"


@pytest.mark.parametrize("name", ["x" * 300, "bad\x00nul", "tab\there"])
def test_names_with_control_characters_or_too_long(client, admin_cookies, domain, name):
    result = form(client, "PUT", f"/api/domain/{domain}", {"name": name},
                  cookies=admin_cookies)
    assert reply(result) == (400, False, "INVALID_PARAMETER")


def test_a_random_path_segment_never_500s(client, admin_cookies):
    for raw in ("%00", "%FF", "%C0%AF", "..", "%2E%2E", "a" * 2000, "%0A", "*", "(",
                "\\", "%25", secrets.token_hex(2) + "@"):
        for base in ("/api/domain/", "/api/user/", "/api/alias/", "/api/maillist/",
                     "/api/admin/", "/api/spampolicy/domain/", "/api/greylisting/"):
            result = client.simulate_get(base + raw, cookies=admin_cookies)
            assert result.status_code < 500, (base, raw, result.text)
