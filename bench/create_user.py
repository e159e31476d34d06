"""Create-user latency: through the API and as one raw LDAP add, in domains of several sizes.

slapd runs as in production (iRedMail's indexes, size limit and map size, writes synced to
disk); each domain is preloaded with `slapadd -q`. For every size, API creates and raw adds
alternate (so both see the same directory and machine load), and the figure that matters is
the median of the per-pair differences: the API's own cost on top of slapd's.

    python -m bench.create_user [--sizes 100,20000] [--pairs 100]

The API is called in-process through the WSGI app (falcon's test client): its parsing,
checks, counters and LDAP round trips, without gunicorn and the network.
"""

import argparse
import statistics
import sys
import tempfile
import time

from falcon import testing
from passlib.hash import ldap_salted_sha512

from iredapi_ldap.app import create_app
from iredapi_ldap.config import load_settings
from iredapi_ldap.devslapd import IRedMailSlapd
from iredapi_ldap.directory import from_settings
from iredapi_ldap.layout import Layout
from iredapi_ldap.model.kinds import DEFAULT_USER_SERVICES
from iredapi_ldap.policy.store import SqlPolicyStore
from iredapi_ldap.policy.tables import DATABASES

PASSWORD = "Bench-Passw0rd!"


def domain_ldif(layout, domain, users, stored_password):
    """A domain with its containers and `users` mail users, as LDIF for slapadd."""
    dn = layout.domain_dn(domain)
    parts = [f"dn: {dn}\nobjectClass: mailDomain\ndomainName: {domain}\n"
             f"mtaTransport: dovecot\naccountStatus: active\nenabledService: mail\n"
             f"accountSetting: defaultQuota:1024\ndomainCurrentUserNumber: {users}\n"
             f"domainCurrentAliasNumber: 0\ndomainCurrentListNumber: 0\n"
             f"domainCurrentQuotaSize: {users * 1024 ** 3}\n"]
    for ou in ("Users", "Groups", "Aliases", "Externals"):
        parts.append(f"dn: ou={ou},{dn}\nobjectClass: organizationalUnit\nou: {ou}\n")
    for i in range(users):
        parts.append(raw_user_ldif(layout, f"u{i:06d}@{domain}", stored_password))
    return "\n".join(parts)


def user_attributes(mail, stored_password):
    """A mail user as iRedMail's tools create it (the services every new user gets)."""
    local, domain = mail.split("@")
    return {"objectClass": ["inetOrgPerson", "mailUser", "shadowAccount", "amavisAccount"],
            "mail": [mail], "uid": [local], "cn": [local], "sn": [local],
            "userPassword": [stored_password], "accountStatus": ["active"],
            "homeDirectory": [f"/var/vmail/vmail1/{domain}/{local[0]}/{local}/"],
            "mailQuota": [str(1024 ** 3)], "amavisLocal": ["TRUE"],
            "enabledService": list(DEFAULT_USER_SERVICES),
            "mailboxFormat": ["maildir"], "mailboxFolder": ["Maildir"],
            "shadowLastChange": ["20000"]}


def like(template, mail):
    """The attributes of `template` (a user entry) for another address: what a client
    would add to create the same kind of user as the one the template was read from."""
    local, domain = mail.split("@")
    return {**template, "mail": [mail], "uid": [local], "cn": [local], "sn": [local],
            "homeDirectory": [f"/var/vmail/vmail1/{domain}/{local[0]}/{local}/"]}


def raw_user_ldif(layout, mail, stored_password):
    lines = [f"dn: {layout.user_dn(mail)}"]
    for name, values in user_attributes(mail, stored_password).items():
        lines += [f"{name}: {value}" for value in values]
    return "\n".join(lines) + "\n"


def production_slapd(domains, stored):
    """A started slapd as production runs it (synced writes), `domains` ({size: name})
    preloaded with that many users; returns (slapd, accounts, layout)."""
    slapd = IRedMailSlapd()
    slapd.nosync = False
    base, accounts = slapd.base_ldif()
    layout = Layout(accounts.domains_dn, accounts.admins_dn)
    print(f"preloading {sum(domains)} users with slapadd -q ...", file=sys.stderr)
    slapd.start(preload=base + "\n" + "\n".join(
        domain_ldif(layout, domain, size, stored) for size, domain in domains.items()))
    return slapd, accounts, layout


def measure(sizes, pairs):
    stored = ldap_salted_sha512.hash(PASSWORD)
    domains = {size: f"size{size}.bench" for size in sizes}
    slapd, accounts, layout = production_slapd(domains, stored)
    try:
        return _run(slapd, accounts, layout, domains, pairs)
    finally:
        slapd.stop()


def _run(slapd, accounts, layout, domains, pairs):
    data_dir = tempfile.mkdtemp(prefix="iredapi-bench-")
    settings = load_settings(
        environ={}, enable_restful_api=True, ldap_uri=(slapd.ldap_uri,),
        ldap_basedn=accounts.domains_dn, ldap_admin_basedn=accounts.admins_dn,
        ldap_bind_dn=accounts.vmailadmin_dn, ldap_bind_password=accounts.vmailadmin_password,
        data_dir=data_dir)
    directory = from_settings(settings)  # the configured adapter, for the raw adds too
    store = SqlPolicyStore({name: f"sqlite:///{data_dir}/{name}.sqlite" for name in DATABASES})
    store.create_missing_tables()
    client = testing.TestClient(create_app(settings, directory, store))
    login = client.simulate_post("/api/login", json={"username": accounts.admin_mail,
                                                     "password": accounts.admin_password})
    cookies = {"iRedAdmin-Pro-LDAP": login.cookies["iRedAdmin-Pro-LDAP"].value}
    results = {}
    for size, domain in domains.items():
        api, raw, template = [], [], None
        for i in range(pairs):
            start = time.perf_counter()
            reply = client.simulate_post(f"/api/user/api{i:05d}@{domain}",
                                         json={"password": PASSWORD}, cookies=cookies)
            api.append(time.perf_counter() - start)
            assert reply.status_code == 200, reply.json
            # The raw adds write the very entry the API writes (read back once).
            template = template or directory.get(layout.user_dn(f"api{i:05d}@{domain}")).attrs
            mail = f"raw{i:05d}@{domain}"
            start = time.perf_counter()
            directory.add(layout.user_dn(mail), like(template, mail))
            raw.append(time.perf_counter() - start)
        results[size] = (api, raw)
    return results


def report(results):
    print("| users in domain | API create p50 | API p95 | raw add p50 | raw p95 "
          "| API overhead (median of pair differences) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size, (api, raw) in results.items():
        overhead = statistics.median(a - r for a, r in zip(api, raw, strict=True))
        print(f"| {size} | {_ms(statistics.median(api))} | {_ms(_p95(api))} "
              f"| {_ms(statistics.median(raw))} | {_ms(_p95(raw))} | {_ms(overhead)} |")


def _p95(values):
    return sorted(values)[int(0.95 * (len(values) - 1))]


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,20000",
                        help="domain sizes in users, comma-separated (default: 100,20000)")
    parser.add_argument("--pairs", type=int, default=100,
                        help="API creates and raw adds per size (default: 100)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    report(measure(sizes, args.pairs))


if __name__ == "__main__":
    main()
