"""Standalone admins: /api/admin/<mail> and /api/verify_password/admin/<mail>."""

import secrets

import pytest

from iredapi_ldap import errors

from .. import helpers
from ..helpers import form, login, reply, session_cookie

PASSWORD = "N3w-Admin-pass"


@pytest.fixture
def new_admin(directory, layout):
    mail = f"adm-{secrets.token_hex(4)}@admins.example.net"
    yield mail
    try:
        directory.delete(layout.admin_dn(mail))
    except errors.EntryNotFound:
        pass


def call(client, cookies, method, mail, **data):
    return form(client, method, f"/api/admin/{mail}", data, cookies=cookies)


def get(client, cookies, mail):
    result = client.simulate_get(f"/api/admin/{mail}", cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


def test_create_normal_admin_with_limits(client, admin_cookies, new_admin, domain, directory,
                                         layout):
    result = call(client, admin_cookies, "POST", new_admin, name="Ann Admin",
                  password=PASSWORD, language="en_US", maxDomains="3", maxQuota="10",
                  quotaUnit="GB", maxUsers="100", maxAliases="200", maxLists="5",
                  disableViewingMailLog="yes")
    assert reply(result) == (200, True, None)
    data = get(client, admin_cookies, new_admin)
    assert data["mail"] == new_admin and data["cn"] == "Ann Admin"
    assert data["accountStatus"] == "active" and data["preferredLanguage"] == "en_US"
    assert data["accountSetting"] == {
        "create_new_domains": "yes", "create_max_domains": 3, "create_max_quota": 10,
        "create_quota_unit": "GB", "create_max_users": 100, "create_max_aliases": 200,
        "create_max_lists": 5}
    assert data["disabledService"] == ["view_mail_log"]
    assert "userPassword" not in data and "domainGlobalAdmin" not in data
    assert data["managed_domains"] == []
    stored = directory.get(layout.admin_dn(new_admin)).first("userPassword")
    assert stored.startswith("{SSHA512}")
    assert directory.check_password(layout.admin_dn(new_admin), PASSWORD)  # slapd agrees
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", new_admin)])
    assert get(client, admin_cookies, new_admin)["managed_domains"] == [domain]
    assert reply(login(client, new_admin, PASSWORD)) == (200, True, None)


def test_global_admin_discards_limits(client, admin_cookies, new_admin):
    call(client, admin_cookies, "POST", new_admin, password=PASSWORD, maxDomains="3",
         maxUsers="9")
    call(client, admin_cookies, "PUT", new_admin, isGlobalAdmin="yes", maxLists="4")
    data = get(client, admin_cookies, new_admin)
    assert data["domainGlobalAdmin"] == "yes" and "accountSetting" not in data
    call(client, admin_cookies, "PUT", new_admin, isGlobalAdmin="no", maxUsers="2")
    data = get(client, admin_cookies, new_admin)
    assert "domainGlobalAdmin" not in data
    assert data["accountSetting"] == {"create_max_users": 2}


def test_update_keeps_password_unless_given(client, admin_cookies, new_admin):
    call(client, admin_cookies, "POST", new_admin, password=PASSWORD)
    call(client, admin_cookies, "PUT", new_admin, name="Renamed", accountStatus="disabled")
    data = get(client, admin_cookies, new_admin)
    assert data["cn"] == "Renamed" and data["accountStatus"] == "disabled"
    call(client, admin_cookies, "PUT", new_admin, accountStatus="active")
    assert reply(login(client, new_admin, PASSWORD)) == (200, True, None)
    call(client, admin_cookies, "PUT", new_admin, password="Another-Pass9")
    assert reply(login(client, new_admin, PASSWORD))[2] == "INVALID_CREDENTIALS"
    assert reply(login(client, new_admin, "Another-Pass9")) == (200, True, None)


def test_verify_password(client, admin_cookies, new_admin):
    call(client, admin_cookies, "POST", new_admin, password=PASSWORD)
    path = f"/api/verify_password/admin/{new_admin}"
    assert reply(form(client, "POST", path, {"password": PASSWORD}, cookies=admin_cookies)) == (
        200, True, None)
    assert reply(form(client, "POST", path, {"password": "nope"}, cookies=admin_cookies)) == (
        400, False, "PW_MISMATCH")
    assert reply(form(client, "POST", path, {}, cookies=admin_cookies)) == (
        400, False, "MISSING_PARAMETER")


def test_delete_removes_domain_admin_references(client, admin_cookies, new_admin, domain,
                                                directory, layout):
    call(client, admin_cookies, "POST", new_admin, password=PASSWORD)
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", new_admin)])
    assert reply(call(client, admin_cookies, "DELETE", new_admin)) == (200, True, None)
    assert directory.get(layout.admin_dn(new_admin)) is None
    assert new_admin not in directory.get(layout.domain_dn(domain)).get("domainAdmin")
    assert reply(client.simulate_get(f"/api/admin/{new_admin}", cookies=admin_cookies)) == (
        404, False, "NO_SUCH_ACCOUNT")


@pytest.mark.parametrize("data, code", [
    ({}, "MISSING_PARAMETER"),
    ({"password": "short"}, "PW_SHORTER_THAN_MIN_LENGTH,PW_NO_UPPERCASE,PW_NO_DIGIT_NUMBER,"
                            "PW_NO_SPECIAL_CHAR"),
    ({"password": "alllowercase1!"}, "PW_NO_UPPERCASE"),
    ({"password": "Pässwort-123"}, "PW_NON_ASCII"),
    ({"password": PASSWORD, "maxQuota": "10"}, "MISSING_PARAMETER"),
    ({"password": PASSWORD, "maxQuota": "10", "quotaUnit": "PB"}, "INVALID_PARAMETER"),
    ({"password": PASSWORD, "maxDomains": "many"}, "INVALID_PARAMETER"),
    ({"password": PASSWORD, "isGlobalAdmin": "sure"}, "INVALID_PARAMETER"),
    ({"password": PASSWORD, "bogus": "1"}, "UNKNOWN_PARAMETER"),
])
def test_bad_input_creates_nothing(client, admin_cookies, new_admin, directory, layout,
                                   data, code):
    assert reply(call(client, admin_cookies, "POST", new_admin, **data)) == (400, False, code)
    assert directory.get(layout.admin_dn(new_admin)) is None


def test_refused_addresses(client, admin_cookies, domain, accounts):
    assert reply(call(client, admin_cookies, "POST", f"boss@{domain}",
                      password=PASSWORD)) == (400, False, "CAN_NOT_BE_LOCAL_DOMAIN")
    assert reply(call(client, admin_cookies, "POST", "a)(b@admins.example.net",
                      password=PASSWORD)) == (400, False, "INVALID_MAIL")


def test_existing_admin(client, admin_cookies, new_admin):
    call(client, admin_cookies, "POST", new_admin, password=PASSWORD)
    assert reply(call(client, admin_cookies, "POST", new_admin, password=PASSWORD)) == (
        409, False, "ALREADY_EXISTS")


def test_normal_admins_cannot_manage_admins(client, domain_admin, new_admin):
    cookies = session_cookie(login(client, domain_admin))
    for method in ("GET", "POST", "PUT", "DELETE"):
        result = call(client, cookies, method, domain_admin if method != "POST" else new_admin,
                      **({"password": PASSWORD} if method in ("POST", "PUT") else {}))
        assert reply(result) == (403, False, "PERMISSION_DENIED"), method
    result = form(client, "POST", f"/api/verify_password/admin/{domain_admin}",
                  {"password": "x"}, cookies=cookies)
    assert reply(result) == (403, False, "PERMISSION_DENIED")
    result = call(client, cookies, "PUT", domain_admin, isGlobalAdmin="yes")
    assert reply(result) == (403, False, "PERMISSION_DENIED")
