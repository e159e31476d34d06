"""Today's new endpoints and parameters attacked by an anonymous client, a mail user and a
hostile normal admin (one that manages one domain, A): white/blacklists, paged listings and
their cursors, `with_usage` and the usage fields, API_HIDDEN_USER_PROFILES, throttles with
only `period`, and `employee_id`. Each test states a property whose answer must be
"nothing": nothing outside A is read or written, and bad input is a 4xx that changes
nothing (never a 500)."""

import json
import secrets
from urllib.parse import urlencode

import pytest
from sqlalchemy import insert

from iredapi_ldap.policy.tables import last_login, used_quota

from .. import helpers
from ..helpers import form, login, reply, session_cookie
from .test_paging import add_users, listing, sorting_slapd  # noqa: F401 - fixtures

pytestmark = pytest.mark.slapd

DIRECTIONS = ("inbound", "outbound")
LISTS = ("whitelist", "blacklist")


class Scene:
    """Domain A (managed by a standalone normal admin) holding a plain user, a global admin
    (`chief`) and an admin of domain B (`foreign`); domain B holding `bob`."""

    def __init__(self, directory, layout, a, normal_admin):
        self.a, self.b = a, f"t-{secrets.token_hex(4)}.test"
        helpers.add_domain(directory, layout, self.b)
        self.plain, self.chief, self.foreign = (f"{n}@{a}" for n in ("plain", "chief",
                                                                     "foreign"))
        self.bob = f"bob@{self.b}"
        helpers.add_mail_user(directory, layout, self.plain, employeeNumber=["E-plain"])
        helpers.add_mail_user(directory, layout, self.chief, domainGlobalAdmin=["yes"])
        helpers.add_mail_user(directory, layout, self.foreign,
                              enabledService=["mail", "deliver", "domainadmin"])
        helpers.add_mail_user(directory, layout, self.bob)
        directory.modify(layout.domain_dn(self.b),
                         [helpers.add_values("domainAdmin", self.foreign)])
        self.normal_admin = normal_admin


@pytest.fixture
def scene(directory, layout, domain, domain_admin):
    made = Scene(directory, layout, domain, domain_admin)
    yield made
    directory.delete(layout.domain_dn(made.b), subtree=True)


@pytest.fixture
def root(policy_client, accounts):
    return session_cookie(login(policy_client, accounts.admin_mail, accounts.admin_password))


@pytest.fixture
def normal(policy_client, scene):
    return session_cookie(login(policy_client, scene.normal_admin))


def wblist_url(direction, which, target):
    return f"/api/wblist/{direction}/{which}/{target}"


def every_wblist(store, keys):
    """{(key, direction, list): addresses} of every list of `keys` in the policy store."""
    return {(key, d, wb): store.wblist(key, d, wb)
            for key in keys for d in DIRECTIONS for wb in ("W", "B")}


def four_methods(client, url, cookies, addresses="x@example.org"):
    """The replies of GET, POST, PUT and DELETE on a white/blacklist URL."""
    return [client.simulate_get(url, cookies=cookies),
            form(client, "POST", url, {"addresses": addresses}, cookies=cookies),
            form(client, "PUT", url, {"addresses": addresses}, cookies=cookies),
            client.simulate_delete(url, cookies=cookies)]


def get(client, path, cookies, **params):
    result = client.simulate_get(path, query_string=urlencode(params), cookies=cookies)
    return result.status_code, result.json


# -- anonymous clients and mail users ------------------------------------------------------


def test_anonymous_reaches_no_new_endpoint(policy_client, store, root, scene):
    keys = ["@.", "@" + scene.a, scene.plain]
    for target in ("global", scene.a, scene.plain):
        form(policy_client, "POST", wblist_url("inbound", "whitelist", target),
             {"addresses": "kept@example.org"}, cookies=root)
    before = every_wblist(store, keys)
    status, body = get(policy_client, f"/api/users/{scene.a}", root, limit=1)
    cursor = body["_cursor"]  # a real cursor, issued to a global admin
    assert status == 200 and cursor
    for direction in DIRECTIONS:
        for which in LISTS:
            for target in ("global", scene.a, scene.plain):
                for result in four_methods(policy_client,
                                           wblist_url(direction, which, target), None):
                    assert reply(result) == (401, False, "LOGIN_REQUIRED"), target
    for path, params in ((f"/api/users/{scene.a}", {"limit": 1}),
                         (f"/api/users/{scene.a}", {"cursor": cursor}),
                         (f"/api/users/{scene.a}", {"with_usage": "yes"}),
                         ("/api/domains", {"limit": 5}),
                         (f"/api/aliases/{scene.a}", {"limit": 5}),
                         (f"/api/maillists/{scene.a}", {"limit": 5}),
                         (f"/api/user/{scene.plain}", {})):
        status, body = get(policy_client, path, None, **params)
        assert (status, body["_msg"]) == (401, "LOGIN_REQUIRED") and "_data" not in body
    assert every_wblist(store, keys) == before


def test_a_mail_user_gets_no_session(policy_client, scene):
    """A plain mail user (no admin privilege) is refused at login, with the right password:
    it never holds a session to call the new endpoints with."""
    result = login(policy_client, scene.plain)
    assert reply(result) == (403, False, "PERMISSION_DENIED")
    assert not result.cookies


def test_a_cursor_is_no_session_and_a_session_no_cursor(policy_client, root, scene):
    status, body = get(policy_client, f"/api/users/{scene.a}", root, limit=1)
    cursor = body["_cursor"]
    token = next(iter(root.values()))
    status, body = get(policy_client, f"/api/users/{scene.a}", root, cursor=token)
    assert (status, body["_msg"]) == (400, "INVALID_CURSOR")
    result = policy_client.simulate_get(f"/api/users/{scene.a}",
                                        cookies={next(iter(root)): cursor})
    assert reply(result) == (401, False, "LOGIN_REQUIRED")


# -- white/blacklists: a normal admin --------------------------------------------------------


@pytest.mark.parametrize("who", ["chief", "foreign"])
def test_normal_admin_cannot_touch_lists_of_privileged_users_in_its_domain(
        policy_client, store, root, normal, scene, who):
    """chief@A is a global admin, foreign@A administers B: their lists are theirs (a normal
    admin of A must not whitelist senders for a global admin, nor read what it listed)."""
    target = getattr(scene, who)
    form(policy_client, "POST", wblist_url("inbound", "blacklist", target),
         {"addresses": "kept@example.org"}, cookies=root)
    before = every_wblist(store, [target])
    for direction in DIRECTIONS:
        for which in LISTS:
            for spelled in (target, target.upper()):
                for result in four_methods(policy_client,
                                           wblist_url(direction, which, spelled), normal):
                    assert reply(result) == (403, False, "PERMISSION_DENIED"), spelled
    assert every_wblist(store, [target]) == before
    # the plain user of its own domain it does reach
    url = wblist_url("inbound", "whitelist", scene.plain)
    assert reply(form(policy_client, "POST", url, {"addresses": "y@example.org"},
                      cookies=normal)) == (200, True, None)


def test_normal_admin_cannot_reach_other_keys_by_spelling(policy_client, store, root, normal,
                                                          scene):
    """Other spellings of B, B's users, global and Amavisd's wildcard keys (`@.`, `@.a`,
    `user@`) are refused and write nothing."""
    keys = ["@.", "@" + scene.b, scene.bob, "@." + scene.a, "plain@", "@.test"]
    before = every_wblist(store, keys)
    refused = {
        "GLOBAL": 403, "Global": 403, scene.b.upper(): 403, scene.bob.upper(): 403,
        scene.b + ".": 400, "." + scene.a: 400, "@." + scene.a: 400, "@" + scene.a: 400,
        "@.": 400, "plain@": 400, "test": 400, f"plain@{scene.a}@{scene.b}": 400,
        f"bob@{scene.b}%00": 400, f"{scene.a}%0a": 400,
    }
    for target, status in refused.items():
        for result in four_methods(policy_client, wblist_url("inbound", "whitelist", target),
                                   normal):
            assert result.status_code == status, (target, result.json)
            assert result.json["_success"] is False
    assert every_wblist(store, keys) == before


def test_a_normal_admins_list_does_not_reach_a_namesake_in_another_domain(
        policy_client, store, normal, scene, directory, layout):
    """A local part that exists in A and B: writing A's user's list leaves B's alone."""
    twin = f"plain@{scene.b}"
    helpers.add_mail_user(directory, layout, twin)
    url = wblist_url("outbound", "blacklist", scene.plain)
    assert reply(form(policy_client, "POST", url, {"addresses": "@."},
                      cookies=normal)) == (200, True, None)
    assert store.wblist(scene.plain, "outbound", "B") == ["@."]
    assert not any(every_wblist(store, [twin, "@" + scene.b, "@."]).values())


# -- white/blacklists: hostile input -----------------------------------------------------------


def test_hostile_addresses_are_discarded_never_a_500(policy_client, store, root, scene):
    url = wblist_url("inbound", "blacklist", scene.plain)
    local = "a" * 64
    domain_255 = ".".join(["b" * 63, "c" * 63, "d" * 60, "test"])   # 190 + 64 + 1 = 255
    longest = f"{local}@{domain_255[:255 - 65]}"
    assert len(longest) == 255
    too_long = f"{local}@{'e' * 63}.{'f' * 63}.{'g' * 58}.test"     # 256
    assert len(too_long) == 256
    hostile = ["ü@example.org", "x@exämple.org", "x@example.org\x00", "\x00",
               "192.0.2.1/33", "192.0.2.9/24", "fe80::1%eth0", "::1/129", "1.2.3",
               "@", "@.@.", "@..example.org", "'; DROP TABLE mailaddr; --", too_long,
               "x@example.org' OR '1'='1", "\u212a@example.org\u0301"]
    result = form(policy_client, "POST", url,
                  {"addresses": ",".join([longest, *hostile])}, cookies=root)
    assert reply(result) == (200, True, None), result.json
    assert set(result.json["_data"]["discarded"]) == {h.strip() for h in hostile
                                                       if h.strip()} - {""}
    assert store.wblist(scene.plain, "inbound", "B") == [longest]


HOSTILE_BODIES = [
    {"addresses": 5}, {"addresses": None}, {"addresses": {"a": "b"}},
    {"addresses": [["x@example.org"]]}, {"addresses": [None]}, {"addresses": [1, 2]},
    {"addresses": "x@example.org", "extra": 1}, [], "x@example.org",
]


def test_hostile_json_bodies_write_nothing(policy_client, store, root, scene):
    """Refused (400), or read as text and discarded (as numbers are); never a 500, and no
    list row."""
    url = wblist_url("inbound", "whitelist", scene.plain)
    for body in HOSTILE_BODIES:
        for method in ("POST", "PUT"):
            result = policy_client.simulate_request(
                method, url, body=json.dumps(body), cookies=root,
                headers={"Content-Type": "application/json"})
            assert result.status_code in (200, 400), (body, result.json)
            assert result.status_code == 400 or not result.json["_data"]["discarded"] or \
                set(result.json["_data"]["discarded"]) <= {"1", "2", "5"}
        assert not any(every_wblist(store, [scene.plain]).values()), body


def test_many_addresses_at_once(policy_client, store, root, scene):
    """Thousands of addresses in one request: stored (in batches), or refused whole as too
    large; never a 500 nor a half-done list."""
    url = wblist_url("inbound", "whitelist", scene.plain)
    many = [f"s{i}@example.org" for i in range(3000)]
    result = form(policy_client, "POST", url, {"addresses": ",".join(many)}, cookies=root)
    assert reply(result) == (200, True, None), result.json
    assert store.wblist(scene.plain, "inbound", "W") == sorted(many)
    result = form(policy_client, "PUT", url, {"addresses": ",".join(many[:2500])},
                  cookies=root)
    assert reply(result) == (200, True, None)
    assert store.wblist(scene.plain, "inbound", "W") == sorted(many[2500:])
    huge = ",".join(f"t{i}@example.org" for i in range(200000))
    result = form(policy_client, "POST", url, {"addresses": huge}, cookies=root)
    assert result.status_code in (200, 413), result.json
    if result.status_code == 413:
        assert store.wblist(scene.plain, "inbound", "W") == sorted(many[2500:])


# -- paged listings --------------------------------------------------------------------------


def test_a_global_admins_domain_cursor_shows_a_normal_admin_only_its_domains(
        policy_client, root, normal, scene):
    status, body = get(policy_client, "/api/domains", root, limit=1, name_only="yes")
    assert status == 200 and body["_cursor"]
    seen, cursor = [], body["_cursor"]
    while cursor:
        status, body = get(policy_client, "/api/domains", normal, cursor=cursor,
                           name_only="yes")
        assert status == 200, body
        seen += body["_data"]
        cursor = body["_cursor"]
    assert set(seen) <= {scene.a}
    status, body = get(policy_client, "/api/domains", normal, limit=1000)
    assert status == 200 and [d["domainName"] for d in body["_data"]] == [scene.a]
    assert body["_cursor"] is None


def test_cursors_do_not_cross_listings_or_domains(policy_client, root, normal, scene,
                                                  directory, layout):
    for i in range(3):
        helpers.add_mail_user(directory, layout, f"u{i}@{scene.b}")
    status, body = get(policy_client, f"/api/users/{scene.a}", normal, limit=1)
    mine = body["_cursor"]
    assert status == 200 and mine
    status, body = get(policy_client, f"/api/users/{scene.b}", root, limit=1)
    theirs = body["_cursor"]
    for path, token in ((f"/api/maillists/{scene.a}", mine), (f"/api/aliases/{scene.a}", mine),
                        ("/api/domains", mine), (f"/api/users/{scene.b}", mine),
                        (f"/api/users/{scene.a}", theirs), (f"/api/users/{scene.b}", theirs)):
        for params in ({"cursor": token}, {"cursor": token, "limit": 1000},
                       {"cursor": token, "with_usage": "yes"}):
            status, body = get(policy_client, path, normal, **params)
            assert status in (400, 403) and "_data" not in body, (path, body)
    # its own cursor, its own domain spelled in capitals: the same listing
    status, body = get(policy_client, f"/api/users/{scene.a.upper()}", normal, cursor=mine)
    assert status == 200 and all(r["mail"].endswith("@" + scene.a) for r in body["_data"])


HOSTILE_CURSORS = [
    "", " ", "null", "[]", "x" * 20000, "ü" * 100, "\x00", "a.b", "..", "%",
    "WzEsInVzZXJzIiwiIiwiIiwxXQ",              # an unsigned [1,"users","","",1]
    "WzEsInVzZXJzIiwiIiwiIiwxXQ.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
]
HOSTILE_LIMITS = ["0", "-1", "1001", "+5", " 5", "5 ", "1e3", "0x10", "٣", "５", "1_0", "",
                  "9" * 40, "5.0", "true"]


def test_hostile_cursors_are_invalid_cursor(client, scene):
    normal = session_cookie(login(client, scene.normal_admin))
    for cursor in HOSTILE_CURSORS:
        status, body = get(client, f"/api/users/{scene.a}", normal, cursor=cursor)
        assert status in (400, 414) and "_data" not in body, (cursor[:40], body)
        if status == 400:
            assert body["_msg"] == "INVALID_CURSOR", (cursor[:40], body)


def test_hostile_limits_are_refused(client, scene):
    normal = session_cookie(login(client, scene.normal_admin))
    for limit in HOSTILE_LIMITS:
        for path in (f"/api/users/{scene.a}", "/api/domains", f"/api/aliases/{scene.a}"):
            status, body = get(client, path, normal, limit=limit)
            assert (status, body["_msg"]) == (400, "INVALID_PARAMETER"), (path, limit, body)


# -- usage and hidden profiles -----------------------------------------------------------------


def _record_usage(store, *addresses):
    with store.databases.engines["iredadmin"].begin() as conn:
        for mail in addresses:
            conn.execute(insert(used_quota).values(username=mail, bytes=777, messages=7))
            conn.execute(insert(last_login).values(username=mail, domain=mail.split("@")[1],
                                                   imap=1700000000))


def test_usage_never_crosses_domains(policy_client, store, normal, scene):
    _record_usage(store, scene.bob, scene.plain)
    for path, params in ((f"/api/user/{scene.bob}", {}),
                         (f"/api/users/{scene.b}", {"with_usage": "yes"}),
                         (f"/api/users/{scene.b}", {"with_usage": "yes", "limit": 5})):
        status, body = get(policy_client, path, normal, **params)
        assert (status, body["_msg"]) == (403, "PERMISSION_DENIED") and "_data" not in body
    status, body = get(policy_client, f"/api/users/{scene.a}", normal, with_usage="yes",
                       limit=1000)
    assert status == 200
    rows = {r["mail"]: r for r in body["_data"]}
    assert set(rows) == {scene.plain, scene.chief, scene.foreign}
    assert rows[scene.plain]["used_quota"] == {"size": 777, "messages": 7}
    status, body = get(policy_client, f"/api/users/{scene.a}", normal, with_usage="yes",
                       email_only="yes", limit=5)
    assert (status, body["_msg"]) == (400, "CONFLICTING_PARAMETERS")


def test_paged_and_usage_listings_hide_hashes_beyond_a_normal_admin(make_client, store,
                                                                    scene):
    """With API_HIDDEN_USER_PROFILES=[] a normal admin sees its plain users' hashes, but
    never those of chief@A (global admin) or foreign@A (admin of B), on any listing path."""
    client = make_client(policy=store, api_hidden_user_profiles=())
    cookies = session_cookie(login(client, scene.normal_admin))
    for params in ({"limit": 1}, {"limit": 1, "with_usage": "yes"}, {"limit": 1000},
                   {"with_usage": "yes"}, {"disabled_only": "no", "limit": 2}):
        rows, cursor = {}, None
        while True:
            query = dict(params) if cursor is None else {
                **{k: v for k, v in params.items() if k != "limit"}, "cursor": cursor}
            status, body = get(client, f"/api/users/{scene.a}", cookies, **query)
            assert status == 200, body
            rows.update({r["mail"]: r for r in body["_data"]})
            cursor = body.get("_cursor")
            if not cursor:
                break
        assert rows[scene.plain].get("userPassword"), params
        for who in (scene.chief, scene.foreign):
            assert "userPassword" not in rows[who], (params, who)


# -- throttles with only `period`, employee_id -------------------------------------------------


HOSTILE_PERIODS = ["0", "-1", "4294967296", "+5", "٣", "５", "1_0", "1e3", "", " ", "5.5",
                   "9" * 30]


def test_hostile_periods_write_nothing(policy_client, store, root, scene):
    for period in HOSTILE_PERIODS:
        for target in ("global", scene.a, scene.plain):
            result = form(policy_client, "POST", f"/api/throttle/{target}/inbound",
                          {"period": period}, cookies=root)
            assert result.status_code == 400 and result.json["_success"] is False, \
                (period, result.json)
            assert store.get_throttle({"global": "@."}.get(target, target if "@" in target
                                                           else "@" + target),
                                      "inbound") is None


def test_normal_admin_throttle_with_only_period_stays_in_its_domain(policy_client, store,
                                                                   normal, scene):
    for target in ("global", scene.b, scene.bob, scene.chief, scene.foreign):
        for kind in ("inbound", "outbound"):
            result = form(policy_client, "POST", f"/api/throttle/{target}/{kind}",
                          {"period": "60"}, cookies=normal)
            assert reply(result) == (403, False, "PERMISSION_DENIED"), target
    for key in ("@.", "@" + scene.b, scene.bob, scene.chief, scene.foreign):
        for kind in ("inbound", "outbound"):
            assert store.get_throttle(key, kind) is None


def test_employee_id_hostile_values_and_scope(client, admin_cookies, directory, layout,
                                              scene):
    cookies = session_cookie(login(client, scene.normal_admin))
    for mail in (scene.chief, scene.foreign, scene.bob):
        result = form(client, "PUT", f"/api/user/{mail}", {"employee_id": "E-x"},
                      cookies=cookies)
        assert reply(result) == (403, False, "PERMISSION_DENIED"), mail
    for params, code in (({"employee_id": "x" * 256}, "INVALID_PARAMETER"),
                         ({"employee_id": "a", "employeeid": "b"}, "CONFLICTING_PARAMETERS"),
                         ({"employee_id": "a\x00b"}, "INVALID_PARAMETER")):
        result = form(client, "PUT", f"/api/user/{scene.plain}", params, cookies=cookies)
        assert result.status_code == 400 and result.json["_msg"] == code, (params, result.json)
    entry = directory.get(layout.user_dn(scene.plain))
    assert entry.get("employeeNumber") == ["E-plain"]
    for mail in (scene.chief, scene.foreign, scene.bob):
        assert not directory.get(layout.user_dn(mail)).get("employeeNumber")


# -- privileges beyond a normal admin's: creating domains ------------------------------------


@pytest.fixture
def creator(directory, layout, scene):
    """creator@A: a mail user that administers A alone, like the normal admin, but that may
    also create domains (`create_new_domains:yes`), which the normal admin may not."""
    mail = f"creator@{scene.a}"
    helpers.add_mail_user(directory, layout, mail,
                          enabledService=["mail", "deliver", "domainadmin"],
                          accountSetting=["create_new_domains:yes"])
    directory.modify(layout.domain_dn(scene.a), [helpers.add_values("domainAdmin", mail)])
    return mail


def test_the_creator_may_create_domains_and_the_normal_admin_may_not(client, scene, creator,
                                                                     directory, layout):
    """The premise of the next test: creator@A's privileges exceed the normal admin's."""
    made = f"t-{secrets.token_hex(4)}.test"
    mine = session_cookie(login(client, scene.normal_admin))
    assert reply(form(client, "POST", f"/api/domain/{made}", {}, cookies=mine)) == (
        403, False, "PERMISSION_DENIED")
    theirs = session_cookie(login(client, creator))
    try:
        assert reply(form(client, "POST", f"/api/domain/{made}", {}, cookies=theirs)) == (
            200, True, None)
    finally:
        if directory.get(layout.domain_dn(made)) is not None:
            directory.delete(layout.domain_dn(made), subtree=True)



# -- backup MX without primarymx -------------------------------------------------------------


def test_backup_mx_stays_a_global_admins_setting(client, admin_cookies, directory, layout,
                                                 scene):
    """A normal admin cannot turn its domain into a relay (is_backupmx, with or without
    primarymx); hostile primarymx values are refused; nothing changes either way."""
    dn = layout.domain_dn(scene.a)
    before = directory.get(dn, ["mtaTransport", "domainBackupMX"]).attrs
    cookies = session_cookie(login(client, scene.normal_admin))
    for params in ({"is_backupmx": "yes"}, {"is_backupmx": "yes", "primarymx": "mx.example.org"},
                   {"is_backupmx": "no"}):
        result = form(client, "PUT", f"/api/domain/{scene.a}", params, cookies=cookies)
        assert reply(result) == (403, False, "PERMISSION_DENIED"), params
    for primary in ("mx.example.org\nsmtp:evil", "[127.0.0.1]:25,x", "mx example", "a" * 300,
                    "ü.example.org", "relay:mx.example.org"):
        result = form(client, "PUT", f"/api/domain/{scene.a}",
                      {"is_backupmx": "yes", "primarymx": primary}, cookies=admin_cookies)
        assert result.status_code == 400 and result.json["_success"] is False, primary
    for params in ({"is_backupmx": "YES "}, {"is_backupmx": "1"}, {"primarymx": "mx.test"},
                   {"is_backupmx": "no", "primarymx": "mx.example.org"}):
        result = form(client, "PUT", f"/api/domain/{scene.a}", params, cookies=admin_cookies)
        assert result.status_code in (200, 400), (params, result.json)
        if result.status_code == 200:  # " YES " read as yes: the relay, with no next hop
            assert directory.get(dn, ["mtaTransport"]).get("mtaTransport") == ["relay:"]
            form(client, "PUT", f"/api/domain/{scene.a}", {"is_backupmx": "no"},
                 cookies=admin_cookies)
    assert directory.get(dn, ["mtaTransport", "domainBackupMX"]).attrs == before


def test_normal_admin_never_gets_the_hash_of_an_admin_that_may_create_domains(
        make_client, scene, creator):
    """API_HIDDEN_USER_PROFILES=[]: the README promises a normal admin never the hash of an
    account whose privileges exceed its own. creator@A may create domains; the normal admin
    may not: cracking the hash (offline) would give it that privilege."""
    client = make_client(api_hidden_user_profiles=())
    cookies = session_cookie(login(client, scene.normal_admin))
    result = client.simulate_get(f"/api/user/{creator}", cookies=cookies)
    assert reply(result) == (200, True, None)
    assert "userPassword" not in result.json["_data"]
    status, body = get(client, f"/api/users/{scene.a}", cookies)
    listed = {row["mail"]: row for row in body["_data"]}
    assert "userPassword" not in listed[creator]


def test_normal_admin_cannot_take_over_an_admin_that_may_create_domains(policy_client, store,
                                                                        normal, scene,
                                                                        creator):
    """Nor may it set that account's password (and log in as it to create domains), nor
    write its white/blacklists, as for any account whose privileges exceed its own."""
    result = form(policy_client, "PUT", f"/api/user/{creator}",
                  {"password": "Taken-0ver-pw!"}, cookies=normal)
    assert reply(result) == (403, False, "PERMISSION_DENIED")
    assert reply(login(policy_client, creator, "Taken-0ver-pw!"))[0] == 401
    url = wblist_url("inbound", "whitelist", creator)
    result = form(policy_client, "POST", url, {"addresses": "@."}, cookies=normal)
    assert reply(result) == (403, False, "PERMISSION_DENIED")
    assert store.wblist(creator, "inbound", "W") == []


# -- paging order: slapd's ordering rule and the API's agree on every character -------------

# Letters, digits and the punctuation a local part may hold, around the letters: if slapd
# folded case upward ('_' after 'Z' but before 'a'), its windows would disagree with the
# API's and a page would skip or repeat an entry.
ODD_LOCALS = ["ma", "m_z", "m`a", "m{", "m|", "m}", "m~", "m^", "mZ", "m0", "m9",
              "m!", "m#", "m$", "m%", "m&", "m'", "m*", "m+", "m/", "m=", "m?", "m-", "m.a"]


def test_pages_cover_odd_local_parts_once_in_name_order(listing):  # noqa: F811
    made = add_users(listing, ODD_LOCALS)
    for limit in (1, 2, 3):
        pages = listing.pages(f"/api/users/{listing.domain}", limit, email_only="yes")
        got = [mail for page in pages for mail in page]
        assert got == sorted(made), limit
