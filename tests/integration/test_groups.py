"""Mail aliases and mailing lists, checked with Postfix's virtual_alias_maps and
virtual_group_maps; reference integrity after renames and deletes."""

import secrets

import pytest

from .. import helpers
from ..helpers import form, login, reply, session_cookie


def call(client, cookies, method, path, **data):
    return form(client, method, path, data, cookies=cookies)


def get(client, cookies, path):
    result = client.simulate_get(path, cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


@pytest.fixture
def users(client, admin_cookies, domain):
    made = [f"u{i}@{domain}" for i in range(3)]
    for mail in made:
        assert reply(call(client, admin_cookies, "POST", f"/api/user/{mail}",
                          password="Us3r-Passw0rd!")) == (200, True, None)
    return made


def counter(directory, layout, domain, name):
    return int(directory.get(layout.domain_dn(domain)).first(name, 0))


# -- aliases ----------------------------------------------------------------------------


def test_alias_life_cycle(client, admin_cookies, domain, users, mailstack, directory, layout):
    alias = f"team@{domain}"
    path = f"/api/alias/{alias}"
    result = call(client, admin_cookies, "POST", path, name="Team", accessPolicy="domain",
                  members=f"{users[0]},{users[1]},outside@example.org")
    assert reply(result) == (200, True, None)
    data = get(client, admin_cookies, path)
    assert data["cn"] == "Team" and data["accessPolicy"] == "domain"
    assert data["members"] == [users[0], users[1], "outside@example.org"]
    assert sorted(data["enabledService"]) == ["deliver", "mail"]
    assert mailstack.lookup("virtual_alias_maps", alias) == sorted(
        [users[0], users[1], "outside@example.org"])
    assert counter(directory, layout, domain, "domainCurrentAliasNumber") == 1
    call(client, admin_cookies, "PUT", path, addMember=users[2], removeMember=users[0])
    assert mailstack.lookup("virtual_alias_maps", alias) == sorted(
        [users[1], users[2], "outside@example.org"])
    call(client, admin_cookies, "PUT", path, members=users[0], accountStatus="disabled")
    assert mailstack.lookup("virtual_alias_maps", alias) == []
    call(client, admin_cookies, "PUT", path, accountStatus="active", name="Team 2")
    assert mailstack.lookup("virtual_alias_maps", alias) == [users[0]]
    listed = get(client, admin_cookies, f"/api/aliases/{domain}?email_only=yes")
    assert listed == [alias]
    assert reply(client.simulate_delete(path, cookies=admin_cookies)) == (200, True, None)
    assert mailstack.lookup("virtual_alias_maps", alias) == []
    assert counter(directory, layout, domain, "domainCurrentAliasNumber") == 0


def test_alias_addresses_must_be_free(client, admin_cookies, domain, users):
    for address in (users[0], f"list@{domain}"):
        if address.startswith("list"):
            call(client, admin_cookies, "POST", f"/api/maillist/{address}")
        assert reply(call(client, admin_cookies, "POST", f"/api/alias/{address}")) == (
            409, False, "ALREADY_EXISTS")
    call(client, admin_cookies, "PUT", f"/api/user/{users[1]}", addAlias=f"nick@{domain}")
    assert reply(call(client, admin_cookies, "POST", f"/api/alias/nick@{domain}")) == (
        409, False, "ALREADY_EXISTS")


@pytest.mark.parametrize("data, code", [
    ({"members": "not-an-address"}, "INVALID_MAIL"),
    ({"members": "a)(b@example.org"}, "INVALID_MAIL"),
    ({"members": "ghost@{domain}"}, "INVALID_MEMBER"),
    ({"members": "a@example.org", "addMember": "b@example.org"}, "CONFLICTING_PARAMETERS"),
    ({"accessPolicy": "everyone"}, "INVALID_PARAMETER"),
    ({"bogus": "1"}, "UNKNOWN_PARAMETER"),
])
def test_bad_alias_input(client, admin_cookies, domain, directory, layout, data, code):
    data = {k: v.format(domain=domain) for k, v in data.items()}
    result = call(client, admin_cookies, "POST", f"/api/alias/bad@{domain}", **data)
    expected = "UNKNOWN_PARAMETER" if "addMember" in data else code  # add/remove: PUT only
    assert reply(result) == (400, False, expected)
    assert directory.get(f"mail=bad@{domain},{layout.container_dn(domain, 'Aliases')}") is None
    call(client, admin_cookies, "POST", f"/api/alias/ok@{domain}", members="a@example.org")
    if "addMember" in data:
        assert reply(call(client, admin_cookies, "PUT", f"/api/alias/ok@{domain}",
                          **data)) == (400, False, code)


def test_alias_limit_holds(client, admin_cookies, domain):
    call(client, admin_cookies, "PUT", f"/api/domain/{domain}", numberOfAliases="1")
    assert reply(call(client, admin_cookies, "POST", f"/api/alias/a1@{domain}")) == (
        200, True, None)
    assert reply(call(client, admin_cookies, "POST", f"/api/alias/a2@{domain}")) == (
        422, False, "EXCEEDED_LIMIT")


def test_alias_rename(client, admin_cookies, domain, users, mailstack, directory, layout):
    old, new = f"old-alias@{domain}", f"new-alias@{domain}"
    call(client, admin_cookies, "POST", f"/api/alias/{old}", members=users[0])
    call(client, admin_cookies, "PUT", f"/api/user/{users[1]}", forwarding=old)
    result = call(client, admin_cookies, "POST", f"/api/alias/{old}/change_email/{new}")
    assert reply(result) == (200, True, None)
    assert mailstack.lookup("virtual_alias_maps", new) == [users[0]]
    assert mailstack.lookup("virtual_alias_maps", old) == []
    assert mailstack.lookup("virtual_alias_maps", users[1]) == [new]
    assert list(directory.search(layout.basedn, f"(|(mail={old})(mailForwardingAddress={old})"
                                                f"(shadowAddress={old}))")) == []


# -- mailing lists ----------------------------------------------------------------------


def test_list_life_cycle(client, admin_cookies, domain, users, mailstack, directory, layout):
    lst = f"news@{domain}"
    path = f"/api/maillist/{lst}"
    result = call(client, admin_cookies, "POST", path, name="News", accessPolicy="membersonly",
                  members=f"{users[0]},{users[1]},ext1@example.org,ext2@example.net")
    assert reply(result) == (200, True, None)
    data = get(client, admin_cookies, path)
    assert data["cn"] == "News" and data["accessPolicy"] == "membersonly"
    assert data["members"] == sorted([users[0], users[1], "ext1@example.org",
                                      "ext2@example.net"])
    assert mailstack.lookup("virtual_group_maps", lst) == data["members"]
    assert directory.get(layout.user_dn(users[0])).get("memberOfGroup") == [lst]
    assert reply(call(client, admin_cookies, "PUT", path,
                      addMember=f"{users[2]},ext3@outside.example",
                      removeMember=f"{users[0]},ext1@example.org")) == (200, True, None)
    expected = sorted([users[1], users[2], "ext2@example.net", "ext3@outside.example"])
    assert get(client, admin_cookies, path)["members"] == expected
    assert mailstack.lookup("virtual_group_maps", lst) == expected
    assert directory.get(layout.user_dn(users[0])).get("memberOfGroup") == []
    call(client, admin_cookies, "PUT", path, members=users[0])
    assert mailstack.lookup("virtual_group_maps", lst) == [users[0]]
    ext_dn = f"memberOfGroup={lst},{layout.container_dn(domain, 'Externals')}"
    assert directory.get(ext_dn) is None  # no external members: no external entry
    assert get(client, admin_cookies, f"/api/maillists/{domain}?email_only=yes") == [lst]
    assert counter(directory, layout, domain, "domainCurrentListNumber") == 1
    assert reply(client.simulate_delete(path, cookies=admin_cookies)) == (200, True, None)
    assert mailstack.lookup("virtual_group_maps", lst) == []
    assert list(directory.search(layout.basedn, f"(|(memberOfGroup={lst})(mail={lst}))")) == []
    assert counter(directory, layout, domain, "domainCurrentListNumber") == 0


def test_list_members_come_and_go_one_by_one(client, admin_cookies, domain, users,
                                             mailstack, directory, layout):
    """Each change writes only the members that come and go: the external entry is made
    with the first outside member and removed with the last; repeats change nothing."""
    lst = f"one@{domain}"
    path = f"/api/maillist/{lst}"
    ext_dn = f"memberOfGroup={lst},{layout.container_dn(domain, 'Externals')}"
    assert reply(call(client, admin_cookies, "POST", path, members=users[0])) == (
        200, True, None)
    assert directory.get(ext_dn) is None
    for _ in range(2):  # the second time, nothing is new
        assert reply(call(client, admin_cookies, "PUT", path,
                          addMember=f"Out@Example.org,{users[0]},{users[1]}")) == (
            200, True, None)
        assert mailstack.lookup("virtual_group_maps", lst) == sorted(
            [users[0], users[1], "out@example.org"])
    assert directory.get(ext_dn, ["mail"]).get("mail") == ["out@example.org"]
    assert reply(call(client, admin_cookies, "PUT", path,
                      removeMember="OUT@example.org,nobody@example.org")) == (200, True, None)
    assert directory.get(ext_dn) is None
    assert reply(call(client, admin_cookies, "PUT", path, members=f"{users[1]},{users[2]}")) \
        == (200, True, None)
    assert get(client, admin_cookies, path)["members"] == [users[1], users[2]]
    assert directory.get(layout.user_dn(users[0])).get("memberOfGroup") == []


def test_list_externals_follow_domain_status(client, admin_cookies, domain, users, mailstack):
    lst = f"ann@{domain}"
    call(client, admin_cookies, "POST", f"/api/maillist/{lst}",
         members=f"{users[0]},out@example.org")
    call(client, admin_cookies, "PUT", f"/api/domain/{domain}", accountStatus="disabled")
    assert mailstack.lookup("virtual_group_maps", lst) == []
    call(client, admin_cookies, "PUT", f"/api/domain/{domain}", accountStatus="active")
    assert mailstack.lookup("virtual_group_maps", lst) == sorted([users[0], "out@example.org"])


@pytest.mark.parametrize("members, code", [
    ("self", "INVALID_MEMBER"), ("ghost@{domain}", "INVALID_MEMBER"),
    ("nope", "INVALID_MAIL"), ("a)(b@example.org", "INVALID_MAIL"),
])
def test_bad_list_members(client, admin_cookies, domain, members, code, directory, layout):
    lst = f"bad-list@{domain}"
    members = lst if members == "self" else members.format(domain=domain)
    assert reply(call(client, admin_cookies, "POST", f"/api/maillist/{lst}",
                      members=members)) == (400, False, code)
    assert directory.get(f"mail={lst},{layout.container_dn(domain, 'Groups')}") is None


def test_list_limit(client, admin_cookies, domain):
    call(client, admin_cookies, "PUT", f"/api/domain/{domain}", numberOfLists="-1")
    assert reply(call(client, admin_cookies, "POST", f"/api/maillist/l@{domain}")) == (
        422, False, "EXCEEDED_LIMIT")


def test_normal_admin_cannot_add_unmanaged_members(client, domain, domain_admin):
    cookies = session_cookie(login(client, domain_admin))
    assert reply(call(client, cookies, "POST", f"/api/maillist/l@{domain}",
                      members="postmaster@example.com")) == (403, False, "PERMISSION_DENIED")
    assert reply(call(client, cookies, "POST", f"/api/alias/a@{domain}",
                      members="postmaster@example.com")) == (403, False, "PERMISSION_DENIED")
    assert reply(call(client, cookies, "POST", f"/api/alias/a@{domain}",
                      members="friend@outside.example")) == (200, True, None)
    assert reply(call(client, cookies, "POST", "/api/alias/x@example.com")) == (
        403, False, "PERMISSION_DENIED")


def test_members_in_alias_domains_are_hosted_members(client, admin_cookies, domain, users,
                                                    domain_admin, directory, layout,
                                                    mailstack):
    """An address in an alias domain is an address of the hosted domain: the same scope
    and existence rules, and a list names the account itself."""
    other, other_alias, own_alias = (f"t-{secrets.token_hex(4)}.test" for _ in range(3))
    assert reply(call(client, admin_cookies, "POST", f"/api/domain/{other}",
                      name="Other")) == (200, True, None)
    try:
        for method, path, data in (
                ("POST", f"/api/user/bob@{other}", {"password": "Us3r-Passw0rd!"}),
                ("PUT", f"/api/domain/{other}", {"addAliasDomain": other_alias}),
                ("PUT", f"/api/domain/{domain}", {"addAliasDomain": own_alias})):
            assert call(client, admin_cookies, method, path, **data).status_code == 200
        cookies = session_cookie(login(client, domain_admin))
        # another domain's user, named through its alias domain, is not this admin's to add
        # (the list would write to bob's entry)
        for kind in ("maillist", "alias"):
            assert reply(call(client, cookies, "POST", f"/api/{kind}/l@{domain}",
                              members=f"bob@{other_alias}")) == (403, False,
                                                                 "PERMISSION_DENIED")
        assert directory.get(layout.user_dn(f"bob@{other}")).get("memberOfGroup") == []
        # nobody has this address, so it is no member
        assert reply(call(client, cookies, "POST", f"/api/alias/a@{domain}",
                          members=f"ghost@{own_alias}")) == (400, False, "INVALID_MEMBER")
        # the admin's own user through the own alias domain: the user is the member
        local = users[0].split("@")[0]
        assert reply(call(client, cookies, "POST", f"/api/maillist/l@{domain}",
                          members=f"{local}@{own_alias}")) == (200, True, None)
        assert mailstack.lookup("virtual_group_maps", f"l@{domain}") == [users[0]]
    finally:
        directory.delete(layout.domain_dn(other), subtree=True)


# -- reference integrity ----------------------------------------------------------------


def test_deleting_a_user_or_domain_leaves_nothing(client, admin_cookies, domain, users,
                                                  directory, layout, mailstack):
    other = f"t-{secrets.token_hex(4)}.test"
    call(client, admin_cookies, "POST", f"/api/domain/{other}", name="Other")
    try:
        outsider = f"o@{other}"
        call(client, admin_cookies, "POST", f"/api/user/{outsider}", password="Us3r-Passw0rd!")
        call(client, admin_cookies, "POST", f"/api/alias/mix@{domain}",
             members=f"{users[0]},{outsider}")
        call(client, admin_cookies, "POST", f"/api/maillist/all@{domain}",
             members=f"{users[0]},{outsider}")
        call(client, admin_cookies, "POST", f"/api/maillist/friends@{other}",
             members=f"{users[1]},{outsider}")
        call(client, admin_cookies, "PUT", f"/api/domain/admins/{other}", addAdmin=users[2])
        # a user goes: nothing names it any more
        client.simulate_delete(f"/api/user/{users[0]}", cookies=admin_cookies)
        assert list(directory.search(layout.basedn, f"(|(mailForwardingAddress={users[0]})"
                                                    f"(memberOfGroup={users[0]})"
                                                    f"(mail={users[0]}))")) == []
        assert mailstack.lookup("virtual_alias_maps", f"mix@{domain}") == [outsider]
        # the whole domain goes: nothing of it anywhere
        client.simulate_delete(f"/api/domain/{domain}", cookies=admin_cookies)
        leftovers = list(directory.search(
            layout.basedn, f"(|(mail=*@{domain})(shadowAddress=*@{domain})"
                           f"(mailForwardingAddress=*@{domain})(memberOfGroup=*@{domain})"
                           f"(domainAdmin=*@{domain}))"))
        assert leftovers == []
        assert mailstack.lookup("virtual_group_maps", f"friends@{other}") == [outsider]
        helpers.add_domain(directory, layout, domain)  # for the fixture's own cleanup
    finally:
        directory.delete(layout.domain_dn(other), subtree=True)


def test_alias_domains_reach_aliases_and_lists(client, admin_cookies, domain, users,
                                               mailstack):
    call(client, admin_cookies, "POST", f"/api/alias/early@{domain}", members=users[0])
    alias_domain = f"t-{secrets.token_hex(4)}.test"
    call(client, admin_cookies, "PUT", f"/api/domain/{domain}", addAliasDomain=alias_domain)
    call(client, admin_cookies, "POST", f"/api/maillist/late@{domain}", members=users[1])
    assert mailstack.lookup("virtual_alias_maps", f"early@{alias_domain}") == [users[0]]
    data = get(client, admin_cookies, f"/api/maillist/late@{domain}")
    assert data["shadowAddress"] == [f"late@{alias_domain}"]
