"""20 creates racing for 5 places in a domain's own limits: exactly 5 win, the other 15 are
refused with EXCEEDED_LIMIT, and the counter equals what exists (RFC 4525 increments read
back with RFC 4527; the quota sum under an assertion). The admins' own limits race in
test_races.py, through gunicorn."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from iredapi_ldap.directory import Scope
from iredapi_ldap.errors import Code, LimitExceeded, NotFound
from iredapi_ldap.services.repository import Repository
from iredapi_ldap.services.reservations import Reservations

from .. import helpers
from ..helpers import form, login, reply, session_cookie

RACERS, LIMIT, MB = 20, 5, 1024 * 1024


@pytest.mark.parametrize("kind, path, setting, counter, container, data", [
    ("user", "user", {"numberOfUsers": str(LIMIT), "defaultQuota": "0"},
     "domainCurrentUserNumber", "Users",
     {"password": "Passw0rd-Racing!"}),  # no quota: the counter's increment only
    ("user", "user", {"numberOfUsers": str(LIMIT)}, "domainCurrentUserNumber", "Users",
     {"password": "Passw0rd-Racing!"}),  # the domain's default quota: the sum moves too
    ("user", "user", {"quota": str(LIMIT * 10)}, "domainCurrentUserNumber", "Users",
     {"password": "Passw0rd-Racing!", "quota": "10"}),  # the domain's quota is the limit
    ("alias", "alias", {"numberOfAliases": str(LIMIT)}, "domainCurrentAliasNumber",
     "Aliases", {}),
    ("list", "maillist", {"numberOfLists": str(LIMIT)}, "domainCurrentListNumber", "Groups",
     {}),
])
def test_racing_creates_fill_a_domain_limit_exactly(make_client, accounts, domain, directory,
                                                    layout, kind, path, setting, counter,
                                                    container, data):
    client = make_client()
    cookies = session_cookie(login(client, accounts.admin_mail, accounts.admin_password))
    assert reply(form(client, "PUT", f"/api/domain/{domain}", setting, cookies=cookies))[1]

    def one(i):
        own = make_client()  # its own app, like a worker
        return reply(form(own, "POST", f"/api/{path}/race{i:02d}@{domain}", data,
                          cookies=cookies))
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        results = list(pool.map(one, range(RACERS)))
    assert results.count((200, True, None)) == LIMIT, results
    assert results.count((422, False, "EXCEEDED_LIMIT")) == RACERS - LIMIT, results
    made = list(directory.search(layout.container_dn(domain, container), "(mail=*)",
                                 Scope.ONE, ["mailQuota"]))
    entry = directory.get(layout.domain_dn(domain), [counter, "domainCurrentQuotaSize"])
    assert len(made) == LIMIT
    assert int(entry.first(counter)) == LIMIT
    quota = sum(int(e.first("mailQuota", 0)) for e in made)
    assert int(entry.first("domainCurrentQuotaSize", 0)) == quota


def test_a_delete_in_a_domain_without_counters_leaves_them_exact(client, admin_cookies,
                                                                 domain, directory, layout):
    """iRedMail's own domains have no counters until a write counts them. A delete removes
    the user, then gives its place back: counted after the user went, the counters must
    not lose it a second time (too low would let one too many in)."""
    for i in range(3):
        helpers.add_mail_user(directory, layout, f"u{i}@{domain}", mailQuota=[str(100 * MB)])
    assert reply(form(client, "DELETE", f"/api/user/u0@{domain}", {},
                      cookies=admin_cookies))[1]
    entry = directory.get(layout.domain_dn(domain),
                          ["domainCurrentUserNumber", "domainCurrentQuotaSize"])
    assert (entry.first("domainCurrentUserNumber"), entry.first("domainCurrentQuotaSize")) \
        == ("2", str(200 * MB))


def test_a_counter_below_zero_counts_from_zero(client, admin_cookies, domain, directory,
                                               layout):
    directory.modify(layout.domain_dn(domain), [
        helpers.replace("domainCurrentUserNumber", "-2"),
        helpers.replace("domainCurrentAliasNumber", "0"),
        helpers.replace("domainCurrentListNumber", "0"),
        helpers.replace("domainCurrentQuotaSize", "0")])
    assert reply(form(client, "POST", f"/api/alias/a@{domain}", {},
                      cookies=admin_cookies))[1]
    assert reply(form(client, "POST", f"/api/user/u@{domain}",
                      {"password": "Passw0rd-Racing!"}, cookies=admin_cookies))[1]
    entry = directory.get(layout.domain_dn(domain), ["domainCurrentUserNumber"])
    assert entry.first("domainCurrentUserNumber") == "1"


def _counters(directory, layout, domain):
    entry = directory.get(layout.domain_dn(domain),
                          ["domainCurrentUserNumber", "domainCurrentQuotaSize"])
    return entry.first("domainCurrentUserNumber"), entry.first("domainCurrentQuotaSize")


@pytest.mark.parametrize("quota", [0, MB])
def test_a_create_meets_the_limits_its_write_found(directory, layout, domain, quota):
    """A create checks the limits its own write read back (RFC 4527), not those its request
    read first: another admin lowering them in between refuses it, and nothing stays
    counted (the quota sum included)."""
    dn = layout.domain_dn(domain)
    directory.modify(dn, [helpers.replace("accountSetting", "numberOfUsers:5"),
                          helpers.replace("domainCurrentUserNumber", "1"),
                          helpers.replace("domainCurrentQuotaSize", "0")])
    read = directory.get(dn, ["*", "entryUUID"])  # the request's read of its domain
    directory.modify(dn, [helpers.replace("accountSetting", "numberOfUsers:1")])
    with pytest.raises(LimitExceeded):
        Reservations(Repository(directory, layout)).reserve(domain, quota=quota, entry=read)
    assert _counters(directory, layout, domain) == ("1", "0")


def test_a_create_counts_in_the_domain_its_access_was_decided_on(directory, layout, domain):
    """Deleted and made again under the same name after the request read it: the new
    domain is another entry (entryUUID), so the create is refused as if the domain had
    gone, and nothing stays counted in the new one."""
    dn = layout.domain_dn(domain)
    read = directory.get(dn, ["*", "entryUUID"])
    directory.delete(dn, subtree=True)
    helpers.add_domain(directory, layout, domain)
    directory.modify(dn, [helpers.replace("domainCurrentUserNumber", "0"),
                          helpers.replace("domainCurrentQuotaSize", "0")])
    with pytest.raises(NotFound) as refused:
        Reservations(Repository(directory, layout)).reserve(domain, quota=MB, entry=read)
    assert refused.value.codes == (Code.NO_SUCH_DOMAIN,)
    assert _counters(directory, layout, domain) == ("0", "0")
