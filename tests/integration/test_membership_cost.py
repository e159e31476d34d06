"""What a change of members costs in LDAP operations: adding or removing one member costs
the same, and little, for a list or alias of 10 000 members as for one of 50 (DESIGN.md
section 6: no request does work proportional to the size of a domain unless it must).

The operations are counted where the services call the directory, so they are the same on
either LDAP client library: this test runs on one (python-ldap), against its own domain of
10 000 members, made once for the module with pipelined requests on a slapd of its own,
which is stopped afterwards rather than emptied (deleting 20 000 entries took 20 s).
"""

import collections
import secrets

import pytest
from falcon import testing

from iredapi_ldap.app import create_app
from iredapi_ldap.config import load_settings
from iredapi_ldap.directory import from_settings
from iredapi_ldap.layout import Layout

from .. import helpers
from ..bulk import Pipelined
from ..helpers import form, login, reply, session_cookie

SIZES = (50, 10_000)
MOST = 12  # LDAP operations a PUT that adds or removes one member may cost


class Counting:
    """The real directory, counting the LDAP operations it is asked for (a modify with no
    change sends nothing and is not counted)."""

    OPERATIONS = ("get", "search", "add", "modify", "delete", "rename")

    def __init__(self, directory):
        self._directory = directory
        self.counts = collections.Counter()

    def __getattr__(self, name):
        method = getattr(self._directory, name)
        if name not in self.OPERATIONS:
            return method

        def counted(*args, **kwargs):
            if name != "modify" or (args[1] if len(args) > 1 else kwargs.get("changes")):
                self.counts[name] += 1
            return method(*args, **kwargs)
        return counted


def group_entry(layout, domain, kind, name, members=()):
    mail = f"{name}@{domain}"
    attributes = {"objectClass": ["mailList" if kind == "maillist" else "mailAlias"],
                  "mail": [mail], "cn": [name], "accountStatus": ["active"],
                  "enabledService": ["mail", "deliver"]}
    if members:
        attributes["mailForwardingAddress"] = list(members)
    container = "Groups" if kind == "maillist" else "Aliases"
    return f"mail={mail},{layout.container_dn(domain, container)}", attributes


def member_user(layout, mail, lists=()):
    local = mail.split("@")[0]
    attributes = {"objectClass": ["inetOrgPerson", "mailUser"], "mail": [mail],
                  "uid": [local], "cn": [local], "sn": [local],
                  "accountStatus": ["active"], "enabledService": ["mail", "deliver"]}
    if lists:
        attributes["memberOfGroup"] = list(lists)
    return layout.user_dn(mail), attributes


@pytest.fixture(scope="module")
def own_slapd():
    with helpers.running_slapd() as server:
        yield server


@pytest.fixture(scope="module")
def settings(own_slapd, tmp_path_factory):
    slapd = own_slapd
    acc = slapd.accounts
    return load_settings(
        environ={}, enable_restful_api=True, ldap_uri=(slapd.ldap_uri,),
        ldap_basedn=acc.domains_dn, ldap_admin_basedn=acc.admins_dn,
        ldap_bind_dn=acc.vmailadmin_dn, ldap_bind_password=acc.vmailadmin_password,
        ldap_connect_timeout=2, ldap_timeout=30, ldap_client="python-ldap",
        login_max_failures=1000, data_dir=str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="module")
def big(own_slapd, settings):
    """A domain with, for each size, a list whose members are that many mail users of the
    domain and an alias with that many members outside; and a user to add."""
    directory, layout = from_settings(settings), Layout.from_settings(settings)
    domain = f"t-{secrets.token_hex(4)}.test"
    helpers.add_domain(directory, layout, domain)
    pipe = Pipelined(own_slapd)
    try:
        for size in SIZES:
            pipe.add([group_entry(layout, domain, "maillist", f"l{size}"),
                      group_entry(layout, domain, "alias", f"a{size}",
                                  [f"a{size}-{i}@outside.example" for i in range(size)])])
            pipe.add(member_user(layout, f"l{size}-{i}@{domain}", [f"l{size}@{domain}"])
                     for i in range(size))
    finally:
        pipe.close()
    helpers.add_mail_user(directory, layout, f"newcomer@{domain}")
    return directory, layout, domain


def measure(settings, directory, accounts, path, params):
    """The LDAP operations one PUT of `params` to `path` costs."""
    counting = Counting(directory)
    client = testing.TestClient(create_app(settings, counting, None))
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    assert client.simulate_get("/api/domains", cookies=cookies).status_code == 200
    counting.counts.clear()
    assert reply(form(client, "PUT", path, params, cookies=cookies)) == (200, True, None)
    return dict(counting.counts)


@pytest.mark.parametrize("kind", ["maillist", "alias"])
def test_one_member_costs_the_same_whatever_the_size(settings, big, own_slapd, kind):
    accounts = own_slapd.accounts
    directory, layout, domain = big
    newcomer = f"newcomer@{domain}"
    added, removed = {}, {}
    for size in SIZES:
        name = f"{'l' if kind == 'maillist' else 'a'}{size}"
        group, path = f"{name}@{domain}", f"/api/{kind}/{name}@{domain}"
        leaving = f"{name}-7@{domain if kind == 'maillist' else 'outside.example'}"
        added[size] = measure(settings, directory, accounts, path, {"addMember": newcomer})
        removed[size] = measure(settings, directory, accounts, path, {"removeMember": leaving})
        if kind == "maillist":
            assert directory.get(layout.user_dn(newcomer)).has_value("memberOfGroup", group)
            assert not directory.get(layout.user_dn(leaving)).get("memberOfGroup")
        else:
            forwarding = directory.get(group_entry(layout, domain, kind, name)[0])
            assert forwarding.has_value("mailForwardingAddress", newcomer)
            assert not forwarding.has_value("mailForwardingAddress", leaving)
    print(f"\n{kind}: add one member {added}, remove one member {removed}")
    assert added[SIZES[0]] == added[SIZES[1]]
    assert removed[SIZES[0]] == removed[SIZES[1]]
    assert sum(added[SIZES[1]].values()) <= MOST
    assert sum(removed[SIZES[1]].values()) <= MOST
