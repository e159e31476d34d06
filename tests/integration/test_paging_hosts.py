"""A listing cursor is continued by any worker of any host that shares SECRET_KEY: two
`serve` instances (three gunicorn workers each) on the same slapd take turns answering the
pages of one listing."""

import secrets

import pytest

from .. import helpers
from ..servers import call, login, serving

pytestmark = pytest.mark.slapd


def test_pages_go_on_on_other_workers_and_hosts(slapd, directory, layout, domain, ldap_client,
                                                tmp_path):
    made = sorted(f"u{i:02d}@{domain}" for i in range(25))
    for mail in made:
        helpers.add_mail_user(directory, layout, mail, stored_password="{SSHA}unused")
    key = secrets.token_urlsafe(32)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serving(slapd, tmp_path / "a", workers=3, SECRET_KEY=key, LDAP_CLIENT=ldap_client) \
            as first, serving(slapd, tmp_path / "b", workers=3, SECRET_KEY=key,
                              LDAP_CLIENT=ldap_client) as second:
        hosts = [(base, login(base, slapd.accounts.admin_mail, slapd.accounts.admin_password))
                 for base in (first, second)]
        listed, cursor, turn = [], None, 0
        while True:
            base, cookie = hosts[turn % 2]   # each page from the other host, a new connection
            params = {"email_only": "yes", **({"cursor": cursor} if cursor else {"limit": 4})}
            status, body = call(base, "GET", f"/api/users/{domain}", params, cookie=cookie)
            assert status == 200, body
            listed += body["_data"]
            cursor, turn = body["_cursor"], turn + 1
            if cursor is None:
                break
        assert listed == made and turn == 7
        other = f"o-{secrets.token_hex(4)}.test"   # a cursor of this domain is no other's
        status, body = call(first, "GET", f"/api/users/{other}",
                            {"cursor": _a_cursor(second, hosts[1][1], domain)},
                            cookie=hosts[0][1])
        assert (status, body["_msg"]) == (400, "INVALID_CURSOR")


def _a_cursor(base, cookie, domain):
    status, body = call(base, "GET", f"/api/users/{domain}", {"limit": 1}, cookie=cookie)
    assert status == 200 and body["_cursor"]
    return body["_cursor"]
