"""White/blacklists (/api/wblist/...), judged by what Amavisd and iRedAPD decide from the
tables (tests/wblist_oracle.py), on SQLite, MariaDB with iRedMail's own tables, and
PostgreSQL."""

import json

import pytest
from sqlalchemy import create_engine, text

from .. import helpers
from ..helpers import login, reply, session_cookie
from ..wblist_oracle import Lookups

OUTSIDE_IP = "198.51.100.7"


@pytest.fixture
def admin(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


@pytest.fixture
def user(directory, layout, domain):
    mail = f"alice@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    return mail


@pytest.fixture
def lookups(policy_urls):
    oracle = Lookups(policy_urls["amavisd"])
    yield oracle
    oracle.close()


def path(direction, listing, target):
    return f"/api/wblist/{direction}/{listing}/{target}"


def post(client, url, cookies, addresses):
    return helpers.form(client, "POST", url, {"addresses": addresses}, cookies=cookies)


def put(client, url, cookies, addresses):
    return helpers.form(client, "PUT", url, {"addresses": addresses}, cookies=cookies)


def listed(client, url, cookies):
    result = client.simulate_get(url, cookies=cookies)
    assert reply(result) == (200, True, None), result.json
    return result.json["_data"]


def count(url, sql, **params):
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text(sql), params).scalar()
    engine.dispose()
    return found


# (address listed, a sender and client IP it covers, one it does not). Amavisd sees only
# the sender address; iRedAPD also the client's IP.
INBOUND_FORMS = [
    ("carol@example.org", ("carol@example.org", OUTSIDE_IP), ("dave@example.org", OUTSIDE_IP)),
    ("@example.org", ("dave@example.org", OUTSIDE_IP), ("dave@sub.example.org", OUTSIDE_IP)),
    ("@.example.org", ("dave@sub.example.org", OUTSIDE_IP), ("dave@example.net", OUTSIDE_IP)),
    ("@.", ("anyone@example.net", OUTSIDE_IP), None),
    ("198.51.100.7", ("x@example.net", "198.51.100.7"), ("x@example.net", "198.51.100.8")),
    ("198.51.100.0/24", ("x@example.net", "198.51.100.200"), ("x@example.net", "198.51.101.1")),
    ("2001:db8::7", ("x@example.net", "2001:db8::7"), ("x@example.net", "2001:db8::8")),
]


def _targets(domain, user):
    """(URL target, a recipient the level covers) per level."""
    return [("global", "someone@elsewhere.example"), (domain, f"bob@{domain}"),
            (user, user)]


@pytest.mark.parametrize("listing, wb", [("whitelist", "W"), ("blacklist", "B")])
def test_inbound_every_form_at_every_level(policy_client, admin, lookups, domain, user,
                                           listing, wb):
    for target, recipient in _targets(domain, user):
        url = path("inbound", listing, target)
        for address, covered, other in INBOUND_FORMS:
            assert reply(post(policy_client, url, admin, address)) == (200, True, None)
            assert listed(policy_client, url, admin) == [address]
            sender, client = covered
            assert lookups.iredapd_inbound(sender, client, recipient) == wb, (target, address)
            by_address = not address[0].isdigit()  # Amavisd matches addresses, never IPs
            assert lookups.amavisd(sender, recipient) == (wb if by_address else None)
            if other:
                assert lookups.iredapd_inbound(*other, recipient) is None, (target, address)
                assert lookups.amavisd(other[0], recipient) is None
            assert reply(policy_client.simulate_delete(url, cookies=admin)) == (
                200, True, None)
            assert lookups.iredapd_inbound(sender, client, recipient) is None
            assert lookups.amavisd(sender, recipient) is None


def test_ipv6_networks_are_stored_though_iredapd_matches_ipv4_networks_only(
        policy_client, admin, lookups, user):
    url = path("inbound", "blacklist", user)
    assert reply(post(policy_client, url, admin, "2001:DB8::/32")) == (200, True, None)
    assert listed(policy_client, url, admin) == ["2001:db8::/32"]
    assert lookups.iredapd_inbound("x@example.net", "2001:db8::9", user) is None


OUTBOUND_FORMS = [
    ("carol@example.org", "carol@example.org", "dave@example.org"),
    ("@example.org", "dave@example.org", "dave@sub.example.org"),
    ("@.example.org", "dave@sub.example.org", "dave@example.net"),
    ("@.", "anyone@example.net", None),
]


@pytest.mark.parametrize("listing, wb", [("whitelist", "W"), ("blacklist", "B")])
def test_outbound_every_form_at_every_level(policy_client, admin, lookups, domain, user,
                                            listing, wb):
    for target, _ in _targets(domain, user):
        url = path("outbound", listing, target)
        for address, covered, other in OUTBOUND_FORMS:
            assert reply(post(policy_client, url, admin, address)) == (200, True, None)
            assert listed(policy_client, url, admin) == [address]
            # Global and domain lists hold for every sender of their scope.
            assert lookups.iredapd_outbound(user, OUTSIDE_IP, covered) == wb, (target, address)
            if other:
                assert lookups.iredapd_outbound(user, OUTSIDE_IP, other) is None
            assert lookups.amavisd(user, covered) is None  # inbound lists are untouched
            assert reply(policy_client.simulate_delete(url, cookies=admin)) == (
                200, True, None)
            assert lookups.iredapd_outbound(user, OUTSIDE_IP, covered) is None


def test_a_user_outranks_its_domain_which_outranks_global(policy_client, admin, lookups,
                                                          directory, layout, domain, user):
    """Also with a spam policy on the domain: its `users` row must not outrank the user's
    (both scales of priority in one table would let it)."""
    other = f"bob@{domain}"
    outsider = "someone@elsewhere.example"
    sender = "news@spam.example"
    assert reply(helpers.form(policy_client, "PUT", f"/api/spampolicy/domain/{domain}",
                              {"bypass_spam_checks": "yes"}, cookies=admin)) == (
        200, True, None)
    post(policy_client, path("inbound", "blacklist", "global"), admin, "@.spam.example")
    post(policy_client, path("inbound", "whitelist", domain), admin, "@spam.example")
    post(policy_client, path("inbound", "blacklist", user), admin, sender)
    for recipient, wb in ((user, "B"), (other, "W"), (outsider, "B")):
        assert lookups.amavisd(sender, recipient) == wb, recipient
        assert lookups.iredapd_inbound(sender, OUTSIDE_IP, recipient) == wb, recipient
    # The user's `users` row links no policy: the domain's spam policy still holds for it.
    assert lookups.amavisd_policy(user, "bypass_spam_checks") == "Y"
    # Outbound: the user's own list before its domain's.
    post(policy_client, path("outbound", "whitelist", domain), admin, "@partner.example")
    post(policy_client, path("outbound", "blacklist", user), admin, "boss@partner.example")
    assert lookups.iredapd_outbound(user, OUTSIDE_IP, "boss@partner.example") == "B"
    assert lookups.iredapd_outbound(other, OUTSIDE_IP, "boss@partner.example") == "W"


def test_rows_get_amavisds_priorities(policy_client, admin, policy_urls, domain, user):
    url = policy_urls["amavisd"]
    post(policy_client, path("inbound", "whitelist", user), admin,
         "a@example.org,@example.org,@.example.org,@.,192.0.2.1,192.0.2.0/24")
    post(policy_client, path("outbound", "whitelist", domain), admin, "a@example.org")
    got = {}
    for address in ("a@example.org", "@example.org", "@.example.org", "@.", "192.0.2.1",
                    "192.0.2.0/24"):
        got[address] = count(url, "SELECT priority FROM mailaddr WHERE email = :e",
                             e=address.encode() if "mysql" in url else address)
    assert got == {"a@example.org": 10, "@example.org": 5, "@.example.org": 3, "@.": 0,
                   "192.0.2.1": 9, "192.0.2.0/24": 7}
    for account, priority in ((user, 10), ("@" + domain, 5)):
        key = account.encode() if "mysql" in url else account
        assert count(url, "SELECT priority FROM users WHERE email = :e", e=key) == priority
        assert count(url, "SELECT policy_id FROM users WHERE email = :e", e=key) == 0


def test_white_and_black_exclude_each_other_the_newer_wins(policy_client, admin, lookups,
                                                           user):
    white, black = path("inbound", "whitelist", user), path("inbound", "blacklist", user)
    sender = "x@example.org"
    post(policy_client, white, admin, f"{sender},@example.net")
    post(policy_client, black, admin, sender)
    assert listed(policy_client, white, admin) == ["@example.net"]
    assert listed(policy_client, black, admin) == [sender]
    assert lookups.amavisd(sender, user) == "B"
    put(policy_client, white, admin, sender)  # not on the whitelist: nothing to remove
    assert listed(policy_client, black, admin) == [sender]
    post(policy_client, white, admin, sender)
    assert listed(policy_client, black, admin) == []
    assert lookups.amavisd(sender, user) == "W"
    # The other direction is a list of its own.
    assert listed(policy_client, path("outbound", "whitelist", user), admin) == []


def test_put_removes_the_given_and_delete_all(policy_client, admin, lookups, user):
    url = path("inbound", "blacklist", user)
    post(policy_client, url, admin, "a@example.org,b@example.org,192.0.2.1")
    result = put(policy_client, url, admin, "A@Example.org, 192.0.2.1 ,not an address")
    assert reply(result) == (200, True, None)
    assert result.json["_data"] == {"discarded": ["not an address"]}
    assert listed(policy_client, url, admin) == ["b@example.org"]
    assert lookups.amavisd("a@example.org", user) is None
    assert lookups.amavisd("b@example.org", user) == "B"
    assert reply(policy_client.simulate_delete(url, cookies=admin)) == (200, True, None)
    assert listed(policy_client, url, admin) == []


def test_invalid_addresses_are_discarded_and_named(policy_client, admin, policy_urls, user):
    url = path("inbound", "whitelist", user)
    bad = ["@.com", "user@*", "192.0.2.9/24", "x'; DROP TABLE mailaddr; --", "a" * 256]
    result = post(policy_client, url, admin, ",".join(["ok@example.org", *bad]))
    assert reply(result) == (200, True, None)
    assert result.json["_data"] == {"discarded": bad}
    assert listed(policy_client, url, admin) == ["ok@example.org"]
    # Nothing valid: nothing written, not even the user's `users` row.
    other = path("inbound", "whitelist", "global")
    before = count(policy_urls["amavisd"], "SELECT COUNT(*) FROM users")
    result = post(policy_client, other, admin, ",".join(bad))
    assert (reply(result), result.json["_data"]) == ((200, True, None), {"discarded": bad})
    assert count(policy_urls["amavisd"], "SELECT COUNT(*) FROM users") == before
    assert listed(policy_client, other, admin) == []


def test_lists_and_spam_policy_share_the_users_row(policy_client, admin, lookups,
                                                   policy_urls, user):
    url = policy_urls["amavisd"]
    key = user.encode() if "mysql" in url else user
    users_rows = "SELECT COUNT(*) FROM users WHERE email = :e"
    spam = f"/api/spampolicy/user/{user}"
    post(policy_client, path("inbound", "whitelist", user), admin, "a@example.org")
    helpers.form(policy_client, "PUT", spam, {"bypass_spam_checks": "yes"}, cookies=admin)
    assert count(url, users_rows, e=key) == 1
    policy_client.simulate_delete(spam, cookies=admin)  # the lists stay in force
    assert lookups.amavisd("a@example.org", user) == "W"
    helpers.form(policy_client, "PUT", spam, {"bypass_spam_checks": "yes"}, cookies=admin)
    policy_client.simulate_delete(path("inbound", "whitelist", user), cookies=admin)
    assert count(url, users_rows, e=key) == 1  # the spam policy stays
    assert policy_client.simulate_get(spam, cookies=admin).json["_data"][
        "bypass_spam_checks"] == "yes"
    policy_client.simulate_delete(spam, cookies=admin)
    assert count(url, users_rows, e=key) == 0  # neither is left: the row goes
    # Lists alone: the row goes with the last address, removed one by one or all at once.
    post(policy_client, path("outbound", "blacklist", user), admin, "a@example.org")
    put(policy_client, path("outbound", "blacklist", user), admin, "a@example.org")
    assert count(url, users_rows, e=key) == 0
    post(policy_client, path("inbound", "blacklist", user), admin, "a@example.org")
    post(policy_client, path("outbound", "whitelist", user), admin, "a@example.org")
    policy_client.simulate_delete(path("inbound", "blacklist", user), cookies=admin)
    assert count(url, users_rows, e=key) == 1  # its outbound list still needs it
    policy_client.simulate_delete(path("outbound", "whitelist", user), cookies=admin)
    assert count(url, users_rows, e=key) == 0


def _lists_of(client, cookies, target):
    return {(direction, listing): listed(client, path(direction, listing, target), cookies)
            for direction in ("inbound", "outbound") for listing in ("whitelist", "blacklist")}


def _give_lists(client, cookies, target):
    for direction, listing in (("inbound", "whitelist"), ("inbound", "blacklist"),
                               ("outbound", "blacklist")):
        assert reply(post(client, path(direction, listing, target), cookies,
                          f"{listing}@example.org")) == (200, True, None)


LISTS_GIVEN = {("inbound", "whitelist"): ["whitelist@example.org"],
               ("inbound", "blacklist"): ["blacklist@example.org"],
               ("outbound", "whitelist"): [],
               ("outbound", "blacklist"): ["blacklist@example.org"]}
NO_LISTS = dict.fromkeys(LISTS_GIVEN, [])


def _rows_left(urls):
    return (count(urls["amavisd"], "SELECT COUNT(*) FROM wblist"),
            count(urls["amavisd"], "SELECT COUNT(*) FROM outbound_wblist"))


def test_rename_moves_and_delete_removes_the_lists(policy_client, admin, lookups, policy_urls,
                                                   directory, layout, domain):
    old, new = f"before@{domain}", f"after@{domain}"
    helpers.add_mail_user(directory, layout, old)
    _give_lists(policy_client, admin, old)
    result = policy_client.simulate_post(f"/api/user/{old}/change_email/{new}", cookies=admin)
    assert reply(result) == (200, True, None)
    assert _lists_of(policy_client, admin, new) == LISTS_GIVEN
    assert lookups.amavisd("blacklist@example.org", new) == "B"
    assert lookups.amavisd("blacklist@example.org", old) is None
    assert lookups.iredapd_outbound(new, OUTSIDE_IP, "blacklist@example.org") == "B"
    assert reply(policy_client.simulate_delete(f"/api/user/{new}", cookies=admin)) == (
        200, True, None)
    assert _rows_left(policy_urls) == (0, 0)
    # A new account at the address inherits nothing.
    helpers.add_mail_user(directory, layout, new)
    assert _lists_of(policy_client, admin, new) == NO_LISTS
    assert lookups.amavisd("blacklist@example.org", new) is None


def test_domain_delete_removes_the_lists_of_the_domain_and_its_users(
        policy_client, admin, policy_urls, directory, layout, domain, user):
    _give_lists(policy_client, admin, user)
    _give_lists(policy_client, admin, domain)
    other = f"keep-{domain}"
    helpers.add_domain(directory, layout, other)
    try:
        _give_lists(policy_client, admin, other)
        assert reply(policy_client.simulate_delete(f"/api/domain/{domain}", cookies=admin)) \
            == (200, True, None)
        assert _rows_left(policy_urls) == (2, 1)  # the other domain's
        assert _lists_of(policy_client, admin, other) == LISTS_GIVEN
    finally:
        helpers.add_domain(directory, layout, domain)  # for the fixture's own cleanup
        directory.delete(layout.domain_dn(other), subtree=True)


# -- who may -------------------------------------------------------------------------------


def test_normal_admin_scope(policy_client, domain_admin, domain, user, policy_urls):
    cookies = session_cookie(login(policy_client, domain_admin))
    for target in (domain, user):
        url = path("inbound", "blacklist", target)
        assert reply(post(policy_client, url, cookies, "x@example.org")) == (200, True, None)
        assert listed(policy_client, url, cookies) == ["x@example.org"]
    before = _rows_left(policy_urls)
    for target in ("global", "example.com", "postmaster@example.com", "absent-domain.test"):
        url = path("outbound", "whitelist", target)
        for result in (post(policy_client, url, cookies, "x@example.org"),
                       put(policy_client, url, cookies, "x@example.org"),
                       policy_client.simulate_get(url, cookies=cookies),
                       policy_client.simulate_delete(url, cookies=cookies)):
            assert reply(result) == (403, False, "PERMISSION_DENIED"), target
    assert _rows_left(policy_urls) == before


def test_disabled_wblist_profiles_refuse_normal_admins(policy_client, client, admin_cookies,
                                                       admin, domain_admin, domain, user):
    cookies = session_cookie(login(policy_client, domain_admin))
    domain_url, user_url = path("inbound", "whitelist", domain), path("inbound", "whitelist",
                                                                      user)
    assert reply(helpers.form(client, "PUT", f"/api/domain/{domain}",
                              {"disableDomainProfile": "wblist"},
                              cookies=admin_cookies)) == (200, True, None)
    for result in (post(policy_client, domain_url, cookies, "x@example.org"),
                   policy_client.simulate_get(domain_url, cookies=cookies),
                   policy_client.simulate_delete(domain_url, cookies=cookies)):
        assert reply(result) == (403, False, "PERMISSION_DENIED")
    assert reply(post(policy_client, user_url, cookies, "x@example.org")) == (200, True, None)
    helpers.form(client, "PUT", f"/api/domain/{domain}",
                 {"enableDomainProfile": "wblist", "disableUserProfile": "wblist"},
                 cookies=admin_cookies)
    assert reply(post(policy_client, domain_url, cookies, "x@example.org")) == (200, True, None)
    for result in (put(policy_client, user_url, cookies, "x@example.org"),
                   policy_client.simulate_get(user_url, cookies=cookies)):
        assert reply(result) == (403, False, "PERMISSION_DENIED")
    assert listed(policy_client, user_url, admin) == ["x@example.org"]  # not removed
    # A global admin is not bound.
    assert reply(put(policy_client, user_url, admin, "x@example.org")) == (200, True, None)


# -- the HTTP layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("url, status, code", [
    ("/api/wblist/sideways/whitelist/global", 404, "NOT_FOUND"),
    ("/api/wblist/inbound/greylist/global", 404, "NOT_FOUND"),
    ("/api/wblist/inbound/whitelist/absent-domain.test", 404, "NO_SUCH_DOMAIN"),
    ("/api/wblist/inbound/whitelist/nobody@example.com", 404, "NO_SUCH_ACCOUNT"),
    ("/api/wblist/inbound/whitelist/a)(b.test", 400, "INVALID_DOMAIN_NAME"),
    ("/api/wblist/inbound/whitelist/'%3B DROP TABLE users%3B --@x.test", 400, "INVALID_MAIL"),
    ("/api/wblist/inbound/whitelist/@example.com", 400, "INVALID_MAIL"),
])
def test_unknown_or_hostile_urls(policy_client, admin, url, status, code):
    for result in (policy_client.simulate_get(url, cookies=admin),
                   post(policy_client, url, admin, "x@example.org"),
                   policy_client.simulate_delete(url, cookies=admin)):
        assert reply(result) == (status, False, code)


def test_parameters(policy_client, admin, user):
    url = path("inbound", "whitelist", user)
    assert reply(helpers.form(policy_client, "POST", url, {}, cookies=admin)) == (
        400, False, "MISSING_PARAMETER")
    assert reply(helpers.form(policy_client, "PUT", url, {"senders": "x@example.org"},
                              cookies=admin)) == (400, False, "UNKNOWN_PARAMETER")
    assert reply(helpers.form(policy_client, "DELETE", url, {"addresses": "x@example.org"},
                              cookies=admin)) == (400, False, "UNKNOWN_PARAMETER")
    assert listed(policy_client, url, admin) == []
    # A JSON body's list is the comma-separated list; the Pro prefix answers too.
    result = policy_client.simulate_post(
        "/iredadmin" + url, body=json.dumps({"addresses": ["x@example.org", "@.example.net"]}),
        headers={"Content-Type": "application/json"}, cookies=admin)
    assert (reply(result), result.json["_data"]) == ((200, True, None), {"discarded": []})
    got = policy_client.simulate_get("/iredadmin" + url, cookies=admin).json["_data"]
    assert got == ["@.example.net", "x@example.org"]
    assert reply(policy_client.simulate_get(url)) == (401, False, "LOGIN_REQUIRED")


# -- racing writes -----------------------------------------------------------------------------


class _Race:
    """3 threads add to an account's inbound whitelist while 2 clear it or delete the
    account. `failures`: what failed other than with CONCURRENT_UPDATE (an answer a racing
    request may get)."""

    def __init__(self, store, account, rounds=30):
        self.store, self.account, self.rounds = store, account, rounds
        self.failures = []

    def run(self):
        import threading
        threads = [threading.Thread(target=self._add, args=(i,)) for i in range(3)]
        threads += [threading.Thread(target=self._remove) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.failures

    def _try(self, work, *args):
        from iredapi_ldap.errors import ConcurrentUpdate
        try:
            work(*args)
        except ConcurrentUpdate:
            pass
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.failures.append(repr(exc))

    def _add(self, i):
        for n in range(self.rounds):
            self._try(self.store.add_to_wblist, self.account, "inbound", "W",
                      [f"s{i}-{n}@example.org"])

    def _remove(self):
        for n in range(self.rounds):
            if n % 2:
                self._try(self.store.remove_from_wblist, self.account, "inbound", "W")
            else:
                self._try(self.store.forget_accounts, [self.account])


def test_racing_writes_leave_no_list_row_without_its_account(store, policy_urls):
    """Lists added while other requests clear them or delete the account: every list row
    still belongs to a users row (no foreign keys hold them together; the users row's lock
    does). A racing request may be told to try again, nothing worse."""
    account = "race@example.com"
    assert _Race(store, account).run() == []
    assert count(policy_urls["amavisd"],
                 "SELECT COUNT(*) FROM wblist WHERE rid NOT IN (SELECT id FROM users)") == 0
    store.add_to_wblist(account, "inbound", "W", ["last@example.org"])
    assert "last@example.org" in store.wblist(account, "inbound", "W")
