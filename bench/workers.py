"""gunicorn's sync worker against `serve`'s worker (iredapi_ldap/workers.py), one client.

One slapd as production runs it with a preloaded domain, the API under gunicorn
(`iredapi_ldap/gunicorn_conf.py`) once per worker class and worker count, all taking turns
with raw ldap3 in one run: login, POST /api/logout (no LDAP work), GET and PUT /api/user, against a
raw ldap3 bind, read and modify. Prints requests per second and the ratios (bench/README.md,
"Workers").

    python -m bench.workers [--users 100] [--workers 4,5] [--seconds 6]
"""

import argparse
import tempfile
from pathlib import Path

from passlib.hash import ldap_salted_sha512

from .create_user import PASSWORD, production_slapd
from .raw import RawLdap3
from .run import Api, rates, start_gunicorn, write_config

WORKER_CLASSES = {"gunicorn sync": "sync",
                  "ExclusiveAcceptWorker": "iredapi_ldap.workers.ExclusiveAcceptWorker"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="users in the domain")
    parser.add_argument("--workers", default="4,5", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0, help="per operation and variant")
    args = parser.parse_args(argv)
    domain = f"c{args.users}.bench"
    slapd, accounts, layout = production_slapd({args.users: domain},
                                               ldap_salted_sha512.hash(PASSWORD))
    workdir = Path(tempfile.mkdtemp(prefix="iredapi-bench-workers-"))
    config = write_config(slapd, accounts, workdir, "python-ldap")
    servers, variants = [], {}
    try:
        for count in (int(n) for n in args.workers.split(",")):
            for name, worker_class in WORKER_CLASSES.items():
                server, port = start_gunicorn(workdir, "--workers", str(count),
                                              "--worker-class", worker_class, config=config)
                servers.append(server)
                variants[(count, name)] = port
        print(table(variants, slapd, accounts, layout, domain, args.seconds))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=60)
        slapd.stop()


def table(variants, slapd, accounts, layout, domain, seconds):
    """Markdown table: requests per second of each variant, and the raw ldap3 rates."""
    login = {"username": accounts.admin_mail, "password": accounts.admin_password}
    target, admin_dn = f"u000001@{domain}", layout.user_dn(accounts.admin_mail)
    apis = {variant: Api(port) for variant, port in variants.items()}
    for api in apis.values():
        api.call("POST", "/api/login", login)
    # Logout drops the cookie of its client: a client of its own for it.
    leaving = {variant: Api(port) for variant, port in variants.items()}
    binder = RawLdap3(slapd.ldap_uri, accounts.vmailadmin_dn, accounts.vmailadmin_password)
    reader = RawLdap3(slapd.ldap_uri, accounts.vmailadmin_dn, accounts.vmailadmin_password)
    # (the client of each variant, the request it sends)
    requests = {
        "login": (apis, lambda api, i: api.call("POST", "/api/login", login)),
        "logout (no LDAP work)": (leaving, lambda api, i: api.call("POST", "/api/logout")),
        "GET /api/user": (apis, lambda api, i: api.call("GET", f"/api/user/{target}")),
        "PUT /api/user": (apis, lambda api, i: api.call("PUT", f"/api/user/{target}",
                                                         {"name": f"n{i}"})),
    }
    operations = [lambda i, a=clients[variant], r=request: r(a, i)
                  for clients, request in requests.values() for variant in variants]
    raw = [lambda i: binder.bind(admin_dn, accounts.admin_password),
           lambda i: reader.read(layout.user_dn(target)),
           lambda i: reader.modify(layout.user_dn(target), "cn", f"r{i}")]
    measured = rates(operations + raw, seconds)
    bind, read, modify = measured[-3:]
    against = (bind, bind, read, modify)
    lines = ["| workers | worker | " + " | ".join(requests) + " |",
             "| --- | --- |" + " --- |" * len(requests)]
    for n, (count, name) in enumerate(variants):
        cells = [measured[k * len(variants) + n] for k in range(len(requests))]
        lines.append(f"| {count} | {name} | " + " | ".join(
            f"{value:.1f} ({value / base:.2f})" for value, base in zip(cells, against,
                                                                         strict=True)) + " |")
    lines += ["", f"Raw ldap3 in the same run: {bind:.1f} binds, {read:.1f} reads, "
              f"{modify:.1f} modifies per second; in brackets the ratio to the raw bind (login, "
              "logout), read (GET) or modify (PUT)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
