"""Who the client is behind a proxy (TRUSTED_PROXIES), and sessions that end everywhere."""

import secrets
import string

from iredapi_ldap.sessions import COOKIE_NAME

from ..helpers import login, reply, session_cookie

PROXY = "127.0.0.1"


def _get(client, xff=None, peer=PROXY, **headers):
    if xff is not None:
        headers["X-Forwarded-For"] = xff
    return client.simulate_get("/api/domains", remote_addr=peer, headers=headers)


def test_the_allow_list_sees_the_client_behind_a_trusted_proxy(make_client):
    client = make_client(trusted_proxies=(PROXY, "10.0.0.0/8"), restrict_api_access=True,
                         restful_api_clients=("192.0.2.50",))
    allowed = [("192.0.2.50", PROXY), ("203.0.113.9, 192.0.2.50", PROXY),
               ("192.0.2.50, 10.1.2.3", PROXY),  # a second trusted proxy in between
               ("192.0.2.50", "10.2.3.4")]
    for xff, peer in allowed:
        assert reply(_get(client, xff, peer))[2] == "LOGIN_REQUIRED", (xff, peer)
    refused = [("192.0.2.50, 203.0.113.9", PROXY),  # the client wrote the allowed one
               ("192.0.2.50", "192.0.2.99"),         # a peer that is no trusted proxy
               (None, PROXY), ("not-an-address", PROXY), ("192.0.2.50\n", "198.51.100.1")]
    for xff, peer in refused:
        assert reply(_get(client, xff, peer))[2] == "NOT_AUTHORIZED", (xff, peer)


def test_without_trusted_proxies_forwarded_headers_mean_nothing(make_client):
    client = make_client(restrict_api_access=True, restful_api_clients=("192.0.2.50",))
    assert reply(_get(client, "192.0.2.50"))[2] == "NOT_AUTHORIZED"
    client = make_client(restrict_api_access=True, restful_api_clients=(PROXY,))
    assert reply(_get(client, "203.0.113.1"))[2] == "LOGIN_REQUIRED"


def test_ipv6_spellings_of_an_ipv4_client_are_that_client(make_client):
    client = make_client(restrict_api_access=True, restful_api_clients=("192.0.2.50",))
    teredo = "2001:0:4136:e378:8000:63bf:3fff:fdcd"  # via relay 65.54.227.120
    for peer in ("::ffff:192.0.2.50", "64:ff9b::c000:232", "2002:c000:232::1", teredo):
        assert reply(_get(client, peer=peer))[2] == "LOGIN_REQUIRED", peer
    # A link-local peer with its scope: an address (refused here), never a 500.
    assert reply(_get(client, peer="fe80::1%eth0"))[2] == "NOT_AUTHORIZED"


def test_login_limits_count_the_client_not_the_proxy(make_client, accounts, standalone):
    client = make_client(trusted_proxies=(PROXY,), login_max_failures=2)
    mail = standalone()
    attacker = f"198.51.100.{secrets.randbelow(250) + 1}"
    for _ in range(2):
        login(client, mail, "Wrong-pass1!", remote_addr=PROXY,
              headers={"X-Forwarded-For": attacker})
    result = login(client, mail, remote_addr=PROXY, headers={"X-Forwarded-For": attacker})
    assert reply(result) == (429, False, "TOO_MANY_LOGIN_ATTEMPTS")
    owner = f"203.0.113.{secrets.randbelow(250) + 1}"
    result = login(client, mail, remote_addr=PROXY, headers={"X-Forwarded-For": owner})
    assert reply(result) == (200, True, None)


def test_secure_cookies_only_through_a_trusted_https_proxy(make_client, standalone):
    mail = standalone()
    trusting = make_client(trusted_proxies=(PROXY,))
    result = login(trusting, mail, remote_addr=PROXY,
                   headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"})
    assert result.cookies[COOKIE_NAME].secure
    result = login(make_client(), mail, remote_addr=PROXY,
                   headers={"X-Forwarded-Proto": "https"})
    assert not result.cookies[COOKIE_NAME].secure


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_a_logged_out_session_ends_on_every_worker(make_client, standalone):
    import time
    clock = Clock(time.time())
    worker_a, worker_b = make_client(clock=clock), make_client(clock=clock)
    cookies = session_cookie(login(worker_a, standalone()))
    assert reply(worker_b.simulate_get("/api/domains", cookies=cookies))[0] == 200
    assert reply(worker_a.simulate_post("/api/logout", cookies=cookies)) == (200, True, None)
    # Worker a ends it at once; another worker that trusted it a moment ago may for 10 s.
    assert reply(worker_a.simulate_get("/api/domains", cookies=cookies))[0] == 401
    clock.now += 10.5
    assert reply(worker_b.simulate_get("/api/domains", cookies=cookies)) == (
        401, False, "LOGIN_REQUIRED")
    # A worker (or host) that never saw the session refuses it from the start.
    assert reply(make_client(clock=clock).simulate_get("/api/domains", cookies=cookies))[0] \
        == 401
    # Logging out twice, or with no session, is fine.
    assert reply(worker_b.simulate_post("/api/logout", cookies=cookies)) == (200, True, None)
    assert reply(worker_b.simulate_post("/api/logout")) == (200, True, None)


def respellings(token):
    """The same signed token written differently: base64 leaves the last character of the
    27-character signature 2 spare bits, which decoding ignores."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    head, last = token[:-1], alphabet.index(token[-1])
    return [head + alphabet[(last & ~3) | spare] for spare in range(4)
            if alphabet[(last & ~3) | spare] != token[-1]]


def test_a_logged_out_session_stays_ended_however_spelled(client, standalone):
    mail = standalone()
    first, second = (session_cookie(login(client, mail)) for _ in range(2))
    assert first != second  # two logins in the same second are two sessions
    token = first[COOKIE_NAME]
    others = respellings(token)
    assert len(others) == 3
    for other in others:  # each is a valid spelling of the session...
        assert reply(client.simulate_get("/api/domains", cookies={COOKIE_NAME: other}))[0] \
            == 200
    assert reply(client.simulate_post("/api/logout", cookies=first)) == (200, True, None)
    for other in [token, *others]:  # ...and all of them ended with it
        assert reply(client.simulate_get("/api/domains", cookies={COOKIE_NAME: other})) == (
            401, False, "LOGIN_REQUIRED")
    assert reply(client.simulate_get("/api/domains", cookies=second))[0] == 200


def test_logout_takes_no_parameters_in_the_url(client, standalone):
    cookies = session_cookie(login(client, standalone()))
    result = client.simulate_post("/api/logout", cookies=cookies, query_string="x=1")
    assert reply(result) == (400, False, "INVALID_PARAMETER")
    assert reply(client.simulate_get("/api/domains", cookies=cookies))[0] == 200

