"""Paged listings: what a page costs at the start and at the end of a large domain.

One domain of `--users` mail users (default 20 000), preloaded with `slapadd -q` into a slapd
as production runs it, once without the sssvlv overlay (as iRedMail runs slapd: the API reads
every user's address and keeps the smallest) and once with it (slapd sorts and cuts the
window). For each slapd and each LDAP client library, through the WSGI app in-process:
the first page and the last page of GET /api/users/<domain> (`limit`, then a cursor just
before the end), full profiles and `email_only`; the median of `--runs` runs, the reply
size, and the peak Python memory allocated while answering (tracemalloc). The whole
listing without `limit` (streamed) is timed for comparison.

    python -m bench.paging [--users 20000] [--limit 100] [--runs 5]
"""

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc

from falcon import testing
from passlib.hash import ldap_salted_sha512

from iredapi_ldap.app import create_app
from iredapi_ldap.config import load_settings
from iredapi_ldap.cursors import CursorCodec
from iredapi_ldap.devslapd import IRedMailSlapd
from iredapi_ldap.directory import ADAPTERS, from_settings
from iredapi_ldap.layout import Layout
from iredapi_ldap.policy.store import SqlPolicyStore
from iredapi_ldap.policy.tables import DATABASES

from .create_user import PASSWORD, domain_ldif

DOMAIN = "paging.bench"
SECRET = "bench-secret-key-for-cursors-000"


def start_slapd(users, sssvlv):
    slapd = IRedMailSlapd()
    slapd.nosync = False
    slapd.sssvlv = sssvlv
    base, accounts = slapd.base_ldif()
    layout = Layout(accounts.domains_dn, accounts.admins_dn)
    print(f"preloading {users} users (sssvlv {'on' if sssvlv else 'off'}) ...", file=sys.stderr)
    slapd.start(preload=base + "\n" + domain_ldif(layout, DOMAIN, users,
                                                  ldap_salted_sha512.hash(PASSWORD)))
    return slapd, accounts


def client_for(slapd, accounts, ldap_client):
    data_dir = tempfile.mkdtemp(prefix="iredapi-bench-")
    settings = load_settings(
        environ={}, enable_restful_api=True, ldap_uri=(slapd.ldap_uri,),
        ldap_basedn=accounts.domains_dn, ldap_admin_basedn=accounts.admins_dn,
        ldap_bind_dn=accounts.vmailadmin_dn, ldap_bind_password=accounts.vmailadmin_password,
        ldap_client=ldap_client, secret_key=SECRET, data_dir=data_dir)
    store = SqlPolicyStore({name: f"sqlite:///{data_dir}/{name}.sqlite" for name in DATABASES})
    store.create_missing_tables()
    client = testing.TestClient(create_app(settings, from_settings(settings), store))
    login = client.simulate_post("/api/login", json={"username": accounts.admin_mail,
                                                     "password": accounts.admin_password})
    return client, {"iRedAdmin-Pro-LDAP": login.cookies["iRedAdmin-Pro-LDAP"].value}


def timed(client, cookies, params, runs):
    """(median seconds, reply bytes, peak KiB allocated in Python, entries) of a GET; the
    memory from one more run under tracemalloc (which slows Python down: not timed). The
    test client keeps the whole reply, so a streamed listing's peak includes its reply."""
    seconds = []
    path = f"/api/users/{DOMAIN}"
    for _ in range(runs):
        start = time.perf_counter()
        result = client.simulate_get(path, params=params, cookies=cookies)
        seconds.append(time.perf_counter() - start)
        assert result.status_code == 200, result.text[:300]
    tracemalloc.start()
    client.simulate_get(path, params=params, cookies=cookies)
    peak = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    return statistics.median(seconds), len(result.content), peak, len(result.json["_data"])


def measure(users, limit, runs):
    last_after = f"u{users - limit - 1:06d}@{DOMAIN}"   # the cursor of the last page
    cursor = CursorCodec(SECRET).issue("users", DOMAIN, last_after, limit)
    rows = []
    for sssvlv in (False, True):
        slapd, accounts = start_slapd(users, sssvlv)
        try:
            for ldap_client in sorted(ADAPTERS):
                client, cookies = client_for(slapd, accounts, ldap_client)
                client.simulate_get(f"/api/users/{DOMAIN}", params={"limit": 1},
                                    cookies=cookies)   # warm: connections, caches
                for shape, extra in (("profiles", {}), ("email_only", {"email_only": "yes"})):
                    label = (f"sssvlv {'on' if sssvlv else 'off'}", ldap_client, shape)
                    rows.append((*label, "first page",
                                 timed(client, cookies, {"limit": limit, **extra}, runs)))
                    rows.append((*label, "last page",
                                 timed(client, cookies, {"cursor": cursor, **extra}, runs)))
                    rows.append((*label, "whole listing",
                                 timed(client, cookies, extra, max(1, runs // 2))))
        finally:
            slapd.stop()
    return rows


def report(rows, users, limit):
    print(f"Domain of {users} users, limit={limit}; median time, reply size, peak Python "
          "memory while answering (one more run, under tracemalloc)")
    print("| slapd | client | items | request | entries | time | reply | peak memory |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for slapd, client, shape, request, (seconds, size, peak, entries) in rows:
        print(f"| {slapd} | {client} | {shape} | {request} | {entries} "
              f"| {seconds * 1000:.1f} ms | {size / 1024:.1f} KiB | {peak:.0f} KiB |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000, help="users in the domain")
    parser.add_argument("--limit", type=int, default=100, help="page size")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args(argv)
    report(measure(args.users, args.limit, args.runs), args.users, args.limit)


if __name__ == "__main__":
    main()
