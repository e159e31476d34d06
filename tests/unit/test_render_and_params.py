import pytest

from iredapi_ldap.addresses import is_domain, is_email
from iredapi_ldap.directory import Entry
from iredapi_ldap.model.render import parse_account_settings, render_entry
from iredapi_ldap.services.hidden import HiddenAttributes


def test_render_entry_shapes():
    entry = Entry("domainName=a.test,o=domains", {
        "objectClass": ["mailDomain"], "domainName": ["a.test"], "mailQuota": ["1048576"],
        "domainCurrentUserNumber": ["3"], "enabledService": ["mail"],
        "userPassword": ["{SSHA}x"], "shadowAddress": ["a@b.test", "c@b.test"],
        "accountSetting": ["minPasswordLength:8", "disabledUserProfile:bcc",
                           "disabledUserProfile:relay", "domainQuota:2048:MB", "junk"]})
    out = render_entry(entry)
    assert out["domainName"] == "a.test"
    assert out["mailQuota"] == 1048576 and out["domainCurrentUserNumber"] == 3
    assert out["enabledService"] == ["mail"] and out["objectClass"] == ["mailDomain"]
    assert out["shadowAddress"] == ["a@b.test", "c@b.test"]
    assert "userPassword" not in out
    assert out["accountSetting"] == {"minPasswordLength": 8,
                                     "disabledUserProfile": ["bcc", "relay"],
                                     "domainQuota": "2048:MB"}


def test_hidden_attributes():
    entry = Entry("mail=u@a.test,ou=Users,domainName=a.test,o=domains", {
        "mail": ["u@a.test"], "userPassword": ["{SSHA}x"], "Mobile": ["1"]})
    assert render_entry(entry, hidden=()) == {"mail": "u@a.test", "userPassword": ["{SSHA}x"],
                                              "Mobile": ["1"]}
    assert render_entry(entry, hidden=("mobile",)) == {"mail": "u@a.test",
                                                       "userPassword": ["{SSHA}x"]}
    shown = HiddenAttributes(("MOBILE",))
    assert shown.shows_password
    assert set(render_entry(shown.apply(entry), hidden=())) == {"mail", "userPassword"}
    assert set(render_entry(shown.apply(entry, hide_password=True), hidden=())) == {"mail"}
    default = HiddenAttributes(("password", "userPassword"))
    assert not default.shows_password
    assert set(default.apply(entry).attrs) == {"mail", "Mobile"}


def test_account_settings_numbers():
    assert parse_account_settings(["numberOfUsers:-1", "defaultQuota:1024"]) == {
        "numberOfUsers": -1, "defaultQuota": 1024}


@pytest.mark.parametrize("name, valid", [
    ("example.com", True), ("a-b.example.co", True), ("xn--bcher-kva.example", True),
    ("-a.com", False), ("a-.com", False), ("a..b", False), ("a" * 64 + ".com", False),
    ("a." * 130 + "com", False), ("*", False), ("a)(b.com", False), ("bücher.de", False),
    ("localhost", False), ("1.2.3.4", False), ("", False),
])
def test_domain_names(name, valid):
    assert is_domain(name) is valid


@pytest.mark.parametrize("address, valid", [
    ("user@example.com", True), ("first.last@example.com", True), ("a+b@example.com", True),
    ("user@", False), ("@example.com", False), ("a@b@example.com", False),
    ("*@example.com", True),  # atext; escaping, not refusing, keeps filters safe
    ("a)(b@example.com", False), ("a,b@example.com", False), ("a\\b@example.com", False),
    ("jörg@example.com", False), (".a@example.com", False), ("a" * 65 + "@example.com", False),
])
def test_addresses(address, valid):
    assert is_email(address) is valid
