"""POST /api/login, sessions, POST /api/logout, and the login rate limit."""

import concurrent.futures
import logging
import secrets

import pytest

from iredapi_ldap.sessions import COOKIE_NAME
from iredapi_ldap.throttle import ADDRESS_FACTOR

from .. import helpers
from ..helpers import PASSWORD, login, reply, session_cookie
from ..unit.test_passwords import PW as SCHEME_PW
from ..unit.test_passwords import STORED


class Clock:
    def __init__(self):
        import time
        self.now = time.time()

    def __call__(self):
        return self.now


def domains_of(client, cookies):
    result = client.simulate_get("/api/domains", params={"name_only": "yes"}, cookies=cookies)
    assert result.status_code == 200, result.json
    return result.json["_data"]


# -- each kind of admin can log in ------------------------------------------------------


def test_seeded_global_admin(client, accounts):
    result = login(client, accounts.admin_mail, accounts.admin_password)
    assert reply(result) == (200, True, None)
    assert "example.com" in domains_of(client, session_cookie(result))


def test_standalone_global_admin(client, standalone, domain):
    mail = standalone()
    assert domain in domains_of(client, session_cookie(login(client, mail)))


def test_standalone_normal_admin_sees_only_managed_domains(client, domain_admin, domain):
    assert domains_of(client, session_cookie(login(client, domain_admin))) == [domain]


def test_mail_user_global_admin(client, directory, layout, domain):
    mail = f"boss@{domain}"
    helpers.add_mail_user(directory, layout, mail, domainGlobalAdmin=["yes"])
    assert domain in domains_of(client, session_cookie(login(client, mail)))


def test_mail_user_domain_admin(client, directory, layout, domain):
    mail = f"helper@{domain}"
    helpers.add_mail_user(directory, layout, mail,
                          enabledService=["mail", "domainadmin"])
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", mail)])
    assert domains_of(client, session_cookie(login(client, mail))) == [domain]


@pytest.mark.parametrize("scheme", sorted(STORED))
def test_every_hash_scheme_logs_in(client, standalone, scheme):
    mail = standalone(stored_password=STORED[scheme])
    assert reply(login(client, mail, SCHEME_PW)) == (200, True, None)
    assert reply(login(client, mail, SCHEME_PW + "x"))[2] == "INVALID_CREDENTIALS"


def test_username_is_case_insensitive(client, standalone):
    mail = standalone()
    assert reply(login(client, mail.upper())) == (200, True, None)


# -- refused logins ---------------------------------------------------------------------


def test_wrong_password(client, standalone):
    result = login(client, standalone(), "Wrong-pass1!")
    assert reply(result) == (401, False, "INVALID_CREDENTIALS")
    assert COOKIE_NAME not in result.cookies


def test_unknown_user(client):
    assert reply(login(client, "nobody@nowhere.example")) == (401, False, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("length", [257, 4097, 100_000])
def test_overlong_passwords_are_wrong_for_every_account(client, standalone, length):
    """The same answer whether the account exists or not: no existence oracle."""
    password = "x" * length
    for mail in (standalone(), f"nobody-{secrets.token_hex(3)}@nowhere.example"):
        assert reply(login(client, mail, password)) == (401, False, "INVALID_CREDENTIALS")


def test_stored_hash_as_password(client, standalone, directory, layout):
    mail = standalone()
    stored = directory.get(layout.admin_dn(mail), ["userPassword"]).first("userPassword")
    assert reply(login(client, mail, stored)) == (401, False, "INVALID_CREDENTIALS")


def test_disabled_admins(client, standalone, directory, layout, domain):
    assert reply(login(client, standalone(accountStatus=["disabled"]))) == (
        403, False, "ACCOUNT_DISABLED")
    mail = f"off@{domain}"
    helpers.add_mail_user(directory, layout, mail, domainGlobalAdmin=["yes"],
                          accountStatus=["disabled"])
    assert reply(login(client, mail))[2] == "ACCOUNT_DISABLED"
    other = f"indisabled@{domain}"  # the account is active, its domain is disabled
    helpers.add_mail_user(directory, layout, other, domainGlobalAdmin=["yes"],
                          domainStatus=["disabled"])
    assert reply(login(client, other))[2] == "ACCOUNT_DISABLED"


def test_plain_mail_user_cannot_log_in(client, directory, layout, domain):
    mail = f"plain@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    assert reply(login(client, mail)) == (403, False, "PERMISSION_DENIED")
    assert reply(login(client, mail, "Wrong-pass1!")) == (401, False, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("data, code", [
    ({"username": "", "password": "x"}, "MISSING_PARAMETER"),
    ({"username": "a@example.com", "password": ""}, "MISSING_PARAMETER"),
    ({"password": "x"}, "MISSING_PARAMETER"),
    ({"username": "a@example.com"}, "MISSING_PARAMETER"),
    ({"username": "postmaster", "password": "x"}, "INVALID_MAIL"),
    ({"username": "a)(mail=*@example.com", "password": "x"}, "INVALID_MAIL"),
    ({"username": "a,ou=x@example.com", "password": "x"}, "INVALID_MAIL"),
    ({"username": "a\\2a@example.com", "password": "x"}, "INVALID_MAIL"),
    ({"username": "jörg@example.com", "password": "x"}, "INVALID_MAIL"),
    ({"username": "a" * 400 + "@example.com", "password": "x"}, "INVALID_MAIL"),
    ({"username": "a@example.com", "password": "x", "extra": "1"}, "UNKNOWN_PARAMETER"),
])
def test_bad_login_input(client, data, code):
    result = helpers.form(client, "POST", "/api/login", data)
    assert reply(result) == (400, False, code)


def test_hostile_but_valid_address_is_escaped(client):
    assert reply(login(client, "*@example.com", "x")) == (401, False, "INVALID_CREDENTIALS")


def test_get_login_is_405(client):
    result = client.simulate_get("/api/login")
    assert reply(result) == (405, False, "METHOD_NOT_ALLOWED")
    assert "POST" in result.headers["allow"]


def test_json_body_login(client, standalone):
    mail = standalone()
    result = client.simulate_post("/api/login", json={"username": mail, "password": PASSWORD})
    assert reply(result) == (200, True, None)


# -- the session cookie -----------------------------------------------------------------


def test_cookie_attributes(client, standalone, base_settings):
    mail = standalone()
    cookie = login(client, mail).cookies[COOKIE_NAME]
    assert cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/"
    assert cookie.max_age == base_settings.session_timeout
    assert not cookie.secure
    assert login(client, mail, protocol="https").cookies[COOKIE_NAME].secure


def test_no_tampered_or_foreign_cookie(make_client, standalone):
    client = make_client()
    token = session_cookie(login(client, standalone()))[COOKIE_NAME]
    payload, signature = token.rsplit(".", 1)
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (tampered, payload[:-1] + "." + signature, "junk", ""):
        result = client.simulate_get("/api/domains", cookies={COOKIE_NAME: bad})
        assert reply(result) == (401, False, "LOGIN_REQUIRED")
    other_key = make_client(secret_key="another-secret-key-" + "x" * 20)
    result = other_key.simulate_get("/api/domains", cookies={COOKIE_NAME: token})
    assert reply(result) == (401, False, "LOGIN_REQUIRED")
    assert reply(client.simulate_get("/api/domains")) == (401, False, "LOGIN_REQUIRED")


def test_expired_session(make_client, standalone, base_settings):
    clock = Clock()
    client = make_client(clock=clock)
    cookies = session_cookie(login(client, standalone()))
    clock.now += base_settings.session_timeout - 1
    assert client.simulate_get("/api/domains", cookies=cookies).status_code == 200
    clock.now += 2
    assert reply(client.simulate_get("/api/domains", cookies=cookies))[2] == "LOGIN_REQUIRED"


def test_password_change_ends_session_within_cache_time(make_client, standalone, directory,
                                                        layout):
    clock = Clock()
    client = make_client(clock=clock)
    mail = standalone()
    cookies = session_cookie(login(client, mail))
    assert client.simulate_get("/api/domains", cookies=cookies).status_code == 200
    directory.modify(layout.admin_dn(mail), [helpers.replace(
        "userPassword", helpers.hash_password("An0ther-pass!"))])
    clock.now += 10  # the per-process check cache keeps entries at most 10 s
    assert reply(client.simulate_get("/api/domains", cookies=cookies))[2] == "LOGIN_REQUIRED"
    assert reply(login(client, mail, "An0ther-pass!")) == (200, True, None)


def test_disabling_demoting_or_deleting_ends_session(make_client, standalone, directory,
                                                      layout, domain):
    clock = Clock()
    client = make_client(clock=clock)
    disabled, deleted = standalone(), standalone()
    demoted = f"demoted@{domain}"
    helpers.add_mail_user(directory, layout, demoted, enabledService=["mail", "domainadmin"])
    sessions = {mail: session_cookie(login(client, mail)) for mail in (disabled, deleted, demoted)}
    directory.modify(layout.admin_dn(disabled), [helpers.replace("accountStatus", "disabled")])
    directory.delete(layout.admin_dn(deleted))
    directory.modify(layout.user_dn(demoted), [helpers.replace("enabledService", "mail")])
    clock.now += 10
    for mail, cookies in sessions.items():
        result = client.simulate_get("/api/domains", cookies=cookies)
        assert reply(result) == (401, False, "LOGIN_REQUIRED"), mail


def test_logout_clears_the_cookie(client, standalone):
    cookies = session_cookie(login(client, standalone()))
    result = client.simulate_post("/api/logout", cookies=cookies)
    assert reply(result) == (200, True, None)
    cleared = result.cookies[COOKIE_NAME]
    assert cleared.value == "" and cleared.max_age in (0, None)
    assert "expires=" in result.headers["set-cookie"].lower()


# -- rate limit and logging -------------------------------------------------------------


def test_failed_logins_are_limited(make_client, standalone):
    client = make_client(login_max_failures=3)
    mail = standalone()
    attacker = f"198.51.100.{secrets.randbelow(250) + 1}"
    for _ in range(3):
        result = login(client, mail, "Wrong-pass1!", remote_addr=attacker)
        assert reply(result)[2] == "INVALID_CREDENTIALS"
    assert reply(login(client, mail, remote_addr=attacker)) == (
        429, False, "TOO_MANY_LOGIN_ATTEMPTS")
    # The owner, from an address of its own, is not locked out by the attacker.
    assert reply(login(client, mail, remote_addr=f"203.0.113.{secrets.randbelow(250) + 1}")) \
        == (200, True, None)
    # The attacker's address may still try other usernames, up to 3 x the limit in all.
    for _ in range(6):
        login(client, standalone(), "Wrong-pass1!", remote_addr=attacker)
    assert reply(login(client, standalone(), remote_addr=attacker))[2] == \
        "TOO_MANY_LOGIN_ATTEMPTS"


def test_racing_wrong_logins_check_no_more_passwords_than_the_limit(make_client, standalone):
    client = make_client(login_max_failures=5)
    mail = standalone()
    attacker = f"198.51.100.{secrets.randbelow(250) + 1}"
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: reply(login(client, mail, "Wrong-pass1!",
                                                    remote_addr=attacker))[2], range(40)))
    assert codes.count("INVALID_CREDENTIALS") <= 5, codes
    assert set(codes) <= {"INVALID_CREDENTIALS", "TOO_MANY_LOGIN_ATTEMPTS"}, codes


def test_logins_land_in_iredadmins_log_as_it_writes_them(policy_client, store, standalone,
                                                         directory, layout, domain):
    from sqlalchemy import select

    from iredapi_ldap.policy.tables import log
    mail, plain = standalone(), f"plain@{domain}"
    helpers.add_mail_user(directory, layout, plain)
    login(policy_client, mail, "Wrong-pass1!", remote_addr="2001:db8::7")
    assert reply(login(policy_client, mail, remote_addr="192.0.2.7"))[0] == 200
    # The right password of an account that may not log in: no failure, no success.
    assert reply(login(policy_client, plain, remote_addr="192.0.2.7"))[0] == 403

    def logged(admin):
        return store.databases.read("iredadmin", lambda conn: [tuple(r) for r in conn.execute(
            select(log.c.admin, log.c.ip, log.c.event, log.c.loglevel, log.c.msg)
            .where(log.c.admin == admin).order_by(log.c.id))])
    assert logged(plain) == []
    rows = logged(mail)
    assert rows == [
        (mail, "2001:0db8:0000:0000:0000:0000:0000:0007", "login", "error",
         "[API] Login failed."),
        (mail, "192.0.2.7", "login", "info", "[API] Admin login success")]


def test_ipv6_hosts_of_one_network_share_the_limit(make_client, standalone):
    client = make_client(login_max_failures=2)
    network = f"2001:db8:{secrets.randbelow(65535):x}:1"
    for host in range(2 * ADDRESS_FACTOR):
        result = login(client, standalone(), "Wrong-pass1!", remote_addr=f"{network}::{host + 1}")
        assert reply(result)[2] == "INVALID_CREDENTIALS"
    result = login(client, standalone(), remote_addr=f"{network}:ffff:ffff:ffff:ffff")
    assert reply(result) == (429, False, "TOO_MANY_LOGIN_ATTEMPTS")


def test_login_attempts_are_logged_without_password(client, standalone, caplog):
    mail = standalone()
    with caplog.at_level(logging.INFO, logger="iredapi_ldap"):
        login(client, mail, "Wrong-pass1!", remote_addr="192.0.2.5")
        login(client, mail, remote_addr="192.0.2.6")
    text = caplog.text
    assert f"login failed: user='{mail}' ip=192.0.2.5" in text
    assert f"login ok: user='{mail}' ip=192.0.2.6" in text
    assert "Wrong-pass1!" not in text and PASSWORD not in text
