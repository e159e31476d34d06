"""Paged listings (`limit`, `cursor`): every page of a listing, on a slapd without the
sssvlv overlay (as iRedMail runs it: the API reads every key) and on one with it (slapd sorts
and cuts the window), with each LDAP client library."""

import secrets
from urllib.parse import urlencode

import pytest

from iredapi_ldap import metrics
from iredapi_ldap.directory import Scope, Window, from_settings
from iredapi_ldap.http.paging import MAX_LIMIT

from .. import helpers
from ..helpers import form, login, reply, session_cookie

pytestmark = pytest.mark.slapd


@pytest.fixture(scope="module")
def sorting_slapd():
    """A slapd of this module's own with the sssvlv overlay loaded."""
    with helpers.running_slapd(sssvlv=True) as server:
        yield server


class Listing:
    """An API client on one slapd, with a global admin's session and a fresh domain."""

    def __init__(self, make_client, directory, layout, accounts, sorted_by_slapd):
        self.make_client = make_client  # a client of the same slapd; kwargs: settings
        self.client, self.directory, self.layout = make_client(), directory, layout
        self.accounts, self.sorted_by_slapd = accounts, sorted_by_slapd
        self.cookies = session_cookie(login(self.client, accounts.admin_mail,
                                            accounts.admin_password))
        self.domain = self.new_domain()

    def new_domain(self):
        name = f"p-{secrets.token_hex(4)}.test"
        helpers.add_domain(self.directory, self.layout, name)
        return name

    def remove(self, domain):
        self.directory.delete(self.layout.domain_dn(domain), subtree=True)

    def get(self, path, cookies=None, **params):
        result = self.client.simulate_get(path, query_string=urlencode(params),
                                          cookies=cookies or self.cookies)
        return result.status_code, result.json

    def pages(self, path, limit, between=lambda number: None, cookies=None, **params):
        """Every page of a listing: [page's _data, ...]; `between(n)` runs after page n."""
        out, cursor = [], None
        while True:
            query = {**params, "limit": limit} if cursor is None else {**params, "cursor": cursor}
            status, body = self.get(path, cookies=cookies, **query)
            assert status == 200, body
            assert len(body["_data"]) <= limit
            out.append(body["_data"])
            assert len(out) <= 100, "the cursor does not move on"
            cursor = body["_cursor"]
            if cursor is None:
                return out
            between(len(out))


@pytest.fixture(params=["plain", "sssvlv"])
def listing(request, make_client, base_settings, layout, slapd):
    """A Listing on the session's slapd (no sssvlv), or on this module's with sssvlv."""
    server = slapd if request.param == "plain" else request.getfixturevalue("sorting_slapd")
    changes = {"ldap_uri": (server.ldap_uri,),
               "ldap_bind_password": server.accounts.vmailadmin_password}
    directory = from_settings(base_settings.replace(**changes))
    one = Listing(lambda **more: make_client(directory=directory, **changes, **more),
                  directory, layout, server.accounts, request.param == "sssvlv")
    declined = _declined_sorts()
    yield one
    one.remove(one.domain)
    if one.sorted_by_slapd:  # slapd sorted every window: it never declined, not even busy
        assert directory._sorting_retry_at == 0.0
        assert _declined_sorts() == declined


def _declined_sorts():
    return metrics.REGISTRY.get_sample_value("iredapi_ldap_ldap_operations_total",
                                             {"operation": "search",
                                              "outcome": "SORT_DECLINED"}) or 0


def add_users(listing, locals_, domain=None):
    domain = domain or listing.domain
    for local in locals_:
        helpers.add_mail_user(listing.directory, listing.layout, f"{local}@{domain}",
                              stored_password="{SSHA}unused")
    return [f"{local}@{domain}".lower() for local in locals_]


NAMES = ["Bob", "alice", "Carol", "dave", "Eve", "al", "b", "zed", "m.x", "m-y", "m_z"]


def test_pages_cover_the_listing_once_in_name_order(listing):
    made = add_users(listing, NAMES)
    path = f"/api/users/{listing.domain}"
    status, whole = listing.get(path, email_only="yes")
    assert status == 200 and "_cursor" not in whole  # without limit: as before
    for limit in (1, 3, len(made), MAX_LIMIT):
        pages = listing.pages(path, limit, email_only="yes")
        flat = [mail for page in pages for mail in page]
        assert flat == sorted(made), limit
        assert all(len(page) == limit for page in pages[:-1])
    profiles = [p for page in listing.pages(path, 4) for p in page]
    assert [p["mail"].lower() for p in profiles] == sorted(made)
    assert all("userPassword" not in p and "objectClass" in p for p in profiles)
    if not listing.sorted_by_slapd:  # slapd declined, and is not asked again for a while
        assert listing.directory._sorting_retry_at > 0


def test_accounts_added_and_removed_between_pages(listing):
    made = add_users(listing, [f"u{i:02d}" for i in range(0, 40, 2)])   # u00, u02, ..., u38
    domain = listing.domain

    def change(number):
        if number == 1:   # after u00..u06: one listed goes, one ahead goes, two come
            for gone in ("u04", "u20"):
                listing.directory.delete(listing.layout.user_dn(f"{gone}@{domain}"))
            add_users(listing, ["u01", "u21", "u99"])
        if number == 3:
            add_users(listing, ["u03", "u31"])

    pages = listing.pages(f"/api/users/{domain}", 4, between=change, email_only="yes")
    flat = [mail for page in pages for mail in page]
    assert len(flat) == len(set(flat))                       # no duplicate
    assert flat == sorted(flat)
    throughout = set(made) - {f"u04@{domain}", f"u20@{domain}"}
    assert throughout <= set(flat)                            # no gap
    assert f"u20@{domain}" not in flat                        # removed before its page
    assert {f"u21@{domain}", f"u99@{domain}", f"u31@{domain}"} <= set(flat)  # came ahead
    assert f"u01@{domain}" not in flat and f"u03@{domain}" not in flat  # came behind


def test_every_listing_pages(listing):
    domain = listing.domain
    add_users(listing, ["m1", "m2"])
    for local in ("zz", "Aa", "mm"):
        for kind, members in (("alias", "m1@" + domain), ("maillist", "m2@" + domain)):
            status, body = (lambda r: (r.status_code, r.json))(form(
                listing.client, "POST", f"/api/{kind}/{local}-{kind}@{domain}",
                {"members": members}, cookies=listing.cookies))
            assert status == 200, body
    for plural, kind, member in (("aliases", "alias", f"m1@{domain}"),
                                 ("maillists", "maillist", f"m2@{domain}")):
        _, whole = listing.get(f"/api/{plural}/{domain}")
        pages = listing.pages(f"/api/{plural}/{domain}", 2)
        flat = [item for page in pages for item in page]
        assert [i["mail"] for i in flat] == sorted(f"{x}-{kind}@{domain}".lower()
                                                   for x in ("zz", "Aa", "mm"))
        assert all(i["members"] == [member] for i in flat + whole["_data"])
    other = listing.new_domain()
    try:
        names = [n for page in listing.pages("/api/domains", 2, name_only="yes") for n in page]
        assert names == sorted(names) and {domain, other} <= set(names)
        _, whole = listing.get("/api/domains", name_only="yes")
        assert sorted(whole["_data"]) == names
    finally:
        listing.remove(other)


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "99999999999", "1e3", "", " 5", "abc"])
def test_limit_out_of_bounds_is_refused(listing, limit):
    status, body = listing.get(f"/api/users/{listing.domain}", limit=limit)
    assert (status, body["_msg"]) == (400, "INVALID_PARAMETER"), body
    assert str(MAX_LIMIT) in body["_detail"]


def _first_cursor(listing, path, **params):
    status, body = listing.get(path, limit=1, **params)
    assert status == 200 and body["_cursor"], body
    return body["_cursor"]


def test_tampered_and_foreign_cursors_are_refused(listing):
    add_users(listing, ["a", "b", "c"])
    domain = listing.domain
    cursor = _first_cursor(listing, f"/api/users/{domain}")
    other = listing.new_domain()
    try:
        add_users(listing, ["a", "b"], domain=other)
        tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
        for path, token in ((f"/api/users/{domain}", tampered),
                            (f"/api/users/{domain}", ""),
                            (f"/api/users/{domain}", "not-a-cursor"),
                            (f"/api/aliases/{domain}", cursor),     # another listing
                            (f"/api/users/{other}", cursor),        # another domain
                            ("/api/domains", cursor)):
            status, body = listing.get(path, cursor=token)
            assert (status, body["_msg"]) == (400, "INVALID_CURSOR"), (path, body)
    finally:
        listing.remove(other)
    foreign = listing.make_client(secret_key="another-key-of-32-characters-long")
    cookies = session_cookie(login(foreign, listing.accounts.admin_mail,
                                   listing.accounts.admin_password))
    result = foreign.simulate_get(f"/api/users/{domain}",
                                  query_string=urlencode({"cursor": cursor}), cookies=cookies)
    assert reply(result) == (400, False, "INVALID_CURSOR")


def _normal_admin(listing):
    """A standalone admin of the listing's domain only: its session cookies."""
    mail = f"adm-{secrets.token_hex(4)}@admins.example.net"
    helpers.add_admin(listing.directory, listing.layout, mail)
    listing.directory.modify(listing.layout.domain_dn(listing.domain),
                             [helpers.add_values("domainAdmin", mail)])
    return mail, session_cookie(login(listing.client, mail))


def test_a_normal_admin_cannot_page_another_domain(listing):
    add_users(listing, ["a", "b", "c"])
    mine = _first_cursor(listing, f"/api/users/{listing.domain}")
    other = listing.new_domain()
    mail, cookies = _normal_admin(listing)
    try:
        add_users(listing, ["x", "y", "z"], domain=other)
        theirs = _first_cursor(listing, f"/api/users/{other}")  # a global admin's cursor
        status, body = listing.get(f"/api/users/{other}", cookies=cookies, cursor=theirs)
        assert (status, body["_msg"]) == (403, "PERMISSION_DENIED")
        for token in (mine, theirs):
            status, body = listing.get(f"/api/users/{other}", cookies=cookies, cursor=token,
                                       limit=5)
            assert status in (400, 403) and "_data" not in body, body
        gone = f"gone-{secrets.token_hex(3)}.test"   # the same answer for no domain at all
        status, body = listing.get(f"/api/users/{gone}", cookies=cookies, limit=5)
        assert (status, body["_msg"]) == (403, "PERMISSION_DENIED")
        # its own domain pages; its domain listing holds its domain alone
        pages = listing.pages(f"/api/users/{listing.domain}", 2, cookies=cookies,
                              email_only="yes")
        assert [m for p in pages for m in p] == [f"{x}@{listing.domain}" for x in "abc"]
        names = listing.pages("/api/domains", 1, cookies=cookies, name_only="yes")
        assert names == [[listing.domain]]
    finally:
        listing.remove(other)
        listing.directory.delete(listing.layout.admin_dn(mail))


def test_search_window_of_the_directory(listing):
    """The contract itself: windows in name order, keyless entries left out, a start past
    the end gives an empty window."""
    made = add_users(listing, NAMES)
    base = listing.layout.container_dn(listing.domain, "Users")
    directory, found, after = listing.directory, [], None
    while True:
        result = directory.search_window(base, "(objectClass=mailUser)", Scope.ONE,
                                         Window("mail", after, 4), ["mail", "cn"])
        assert len(result.entries) <= 4
        assert all(set(e.attrs) <= {"mail", "cn"} for e in result.entries)
        found += [e.first("mail").lower() for e in result.entries]
        if not result.more:
            break
        after = result.last
    assert found == sorted(made)
    past = directory.search_window(base, "(objectClass=mailUser)", Scope.ONE,
                                   Window("mail", "zzzz", 4))
    assert (past.entries, past.more, past.last) == ([], False, None)
    none = directory.search_window(base, "(objectClass=mailUser)", Scope.ONE,
                                   Window("description", None, 4))   # nobody has one
    assert none.entries == [] and not none.more
