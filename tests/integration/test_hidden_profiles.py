"""API_HIDDEN_USER_PROFILES and API_HIDDEN_ADMIN_PROFILES: what GET replies leave out of
users' and standalone admins' profiles. By default the password hash; `[]` exposes it (as
iRedAdmin-Pro's document says), but never to a normal admin for an account whose privileges
exceed its own."""

import secrets

import pytest

from iredapi_ldap import passwords

from .. import helpers
from ..helpers import login, session_cookie


@pytest.fixture
def people(directory, layout, domain, accounts_made):
    """An ordinary user, a global admin and an admin of another domain in `domain` (with
    phone numbers), and a standalone admin; their addresses."""
    other = f"t-{secrets.token_hex(4)}.test"
    helpers.add_domain(directory, layout, other)
    made = {"plain": f"plain@{domain}", "chief": f"chief@{domain}",
            "foreign": f"foreign@{domain}"}
    extra = {"chief": {"domainGlobalAdmin": ["yes"]},
             "foreign": {"enabledService": ["mail", "deliver", "domainadmin"]}}
    for who, mail in made.items():
        helpers.add_mail_user(directory, layout, mail, mobile=["+1 555 0100"],
                              employeeNumber=["E-" + who], **extra.get(who, {}))
    directory.modify(layout.domain_dn(other), [helpers.add_values("domainAdmin",
                                                                  made["foreign"])])
    made["admin"] = f"adm-{secrets.token_hex(4)}@admins.example.net"
    accounts_made.append(helpers.add_admin(directory, layout, made["admin"],
                                           domainGlobalAdmin=["yes"]))
    yield made
    directory.delete(layout.domain_dn(other), subtree=True)


def _stored(directory, dn):
    return directory.get(dn).get("userPassword")


def _user(client, cookies, mail):
    result = client.simulate_get(f"/api/user/{mail}", cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


def _listed(client, cookies, domain):
    result = client.simulate_get(f"/api/users/{domain}", cookies=cookies)
    assert result.status_code == 200, result.json
    return {row["mail"]: row for row in result.json["_data"]}


def _admin(client, cookies, mail):
    result = client.simulate_get(f"/api/admin/{mail}", cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


def test_password_hashes_hidden_by_default(client, admin_cookies, domain, people):
    assert "userPassword" not in _user(client, admin_cookies, people["plain"])
    assert all("userPassword" not in row
               for row in _listed(client, admin_cookies, domain).values())
    assert "userPassword" not in _admin(client, admin_cookies, people["admin"])


def test_exposed_when_the_operator_clears_the_lists(make_client, accounts, directory, layout,
                                                    domain, people):
    client = make_client(api_hidden_user_profiles=(), api_hidden_admin_profiles=())
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    plain = _user(client, cookies, people["plain"])
    assert plain["userPassword"] == _stored(directory, layout.user_dn(people["plain"]))
    assert passwords.verify(helpers.PASSWORD, plain["userPassword"])  # the hash slapd checks
    listed = _listed(client, cookies, domain)
    for who in ("plain", "chief", "foreign"):
        assert listed[people[who]]["userPassword"] == _stored(
            directory, layout.user_dn(people[who]))
    assert _admin(client, cookies, people["admin"])["userPassword"] == _stored(
        directory, layout.admin_dn(people["admin"]))


def test_each_list_hides_what_it_names(make_client, accounts, domain, people):
    """The user list names attributes (any case) instead of the default: the hash shows."""
    client = make_client(api_hidden_user_profiles=("MOBILE", "employeeNumber"))
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    shown = _user(client, cookies, people["plain"])
    assert "mobile" not in shown and "employeeNumber" not in shown
    assert shown["userPassword"] and shown["cn"] == "plain"
    row = _listed(client, cookies, domain)[people["plain"]]
    assert "mobile" not in row and "employeeNumber" not in row and row["userPassword"]
    admin = _admin(client, cookies, people["admin"])  # the admin list is the default
    assert "userPassword" not in admin and admin["mail"] == people["admin"]


def test_normal_admin_never_sees_hashes_beyond_its_privileges(make_client, directory, layout,
                                                               domain, domain_admin, people):
    client = make_client(api_hidden_user_profiles=())
    cookies = session_cookie(login(client, domain_admin))
    assert _user(client, cookies, people["plain"])["userPassword"] == _stored(
        directory, layout.user_dn(people["plain"]))
    listed = _listed(client, cookies, domain)
    assert listed[people["plain"]]["userPassword"]
    for who in ("chief", "foreign"):
        shown = _user(client, cookies, people[who])
        assert "userPassword" not in shown and shown["mail"] == people[who]
        assert "userPassword" not in listed[people[who]]
