"""LDIF export: rate (entries per second) and peak memory, by domain size.

slapd runs as in production (iRedMail's indexes, synced writes); each domain is preloaded with
`slapadd -q`. Every export runs in a fresh child process, so its peak RSS is its own:
- `api`: GET /api/ldif/domain/<domain> with `Accept: text/ldif` through the WSGI app, the
  body read chunk by chunk and thrown away, as a streaming client would;
- `cli`: what `iredapi-ldap export --domain <domain> -o /dev/null` runs.

    python -m bench.export [--sizes 10000,100000]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from passlib.hash import ldap_salted_sha512

from .create_user import PASSWORD, production_slapd


def run_child(kind, config, domain, username, password):
    """In a child process: one export; prints {"entries", "seconds", "rss_kib"}."""
    from iredapi_ldap.config import load_settings
    settings = load_settings(config)
    start = time.perf_counter()
    if kind == "cli":
        from iredapi_ldap import backup_cli
        backup_cli.main_export(settings, domain, "/dev/null")
        entries = None
    else:
        entries = _export_through_app(settings, domain, username, password)
    print(json.dumps({"entries": entries, "seconds": time.perf_counter() - start,
                      "rss_kib": peak_rss_kib()}))


def peak_rss_kib():
    """This process's peak RSS. Not getrusage's ru_maxrss: on Linux it survives exec, so a
    child would report the high-water mark of the parent it was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _export_through_app(settings, domain, username, password):
    from falcon import testing

    from iredapi_ldap.app import create_app
    app = create_app(settings)
    login = testing.TestClient(app).simulate_post(
        "/api/login", json={"username": username, "password": password})
    cookie = login.cookies["iRedAdmin-Pro-LDAP"].value
    environ = testing.create_environ(f"/api/ldif/domain/{domain}", headers={
        "Accept": "text/ldif", "Cookie": f"iRedAdmin-Pro-LDAP={cookie}"})
    entries = 0
    for chunk in app(environ, lambda status, headers: None):
        entries += chunk.count(b"\ndn: ") + chunk.startswith(b"dn: ")
    return entries


def measure(sizes):
    domains = {size: f"export{size}.bench" for size in sizes}
    slapd, accounts, _ = production_slapd(domains, ldap_salted_sha512.hash(PASSWORD))
    try:
        config = Path(tempfile.mkdtemp(prefix="iredapi-bench-")) / "settings.yaml"
        config.write_text(
            f"ENABLE_RESTFUL_API: true\nLDAP_URI: '{slapd.ldap_uri}'\n"
            f"LDAP_BASEDN: '{accounts.domains_dn}'\nLDAP_ADMIN_BASEDN: '{accounts.admins_dn}'\n"
            f"LDAP_BIND_DN: '{accounts.vmailadmin_dn}'\n"
            f"LDAP_BIND_PASSWORD: '{accounts.vmailadmin_password}'\n"
            f"DATA_DIR: '{config.parent}'\n")
        results = {}
        for size, domain in domains.items():
            results[size] = {kind: _child(kind, config, domain, accounts)
                             for kind in ("api", "cli")}
            results[size]["entries"] = size + 5  # the domain, its 4 containers, the users
        return results
    finally:
        slapd.stop()


def _child(kind, config, domain, accounts):
    run = subprocess.run([sys.executable, "-m", "bench.export", "--child", kind, str(config),
                          domain, accounts.admin_mail, accounts.admin_password],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def report(results):
    print("| users in domain | entries | API export | API peak RSS | CLI export "
          "| CLI peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size, row in results.items():
        api, cli = row["api"], row["cli"]
        assert api["entries"] == row["entries"], (api, row)
        print(f"| {size} | {row['entries']} | {row['entries'] / api['seconds']:.0f} entries/s "
              f"| {api['rss_kib'] / 1024:.0f} MiB "
              f"| {row['entries'] / cli['seconds']:.0f} entries/s "
              f"| {cli['rss_kib'] / 1024:.0f} MiB |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="domain sizes in users, comma-separated")
    parser.add_argument("--child", nargs=5, metavar=("KIND", "CONFIG", "DOMAIN", "USER",
                                                     "PASSWORD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(*args.child)
        return
    report(measure([int(size) for size in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
