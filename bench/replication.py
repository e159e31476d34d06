"""Replication lag under the API's write load: two replicating providers (as production
runs them: writes synced to disk, unless --nosync), the API under gunicorn (4 workers) with
LDAP_URI listing both, and `--clients` threads creating users through it as fast as it
answers for `--seconds`. Every 20 ms both providers' contextCSN are read; the lag is how far
the second's newest change from the first (server ID) trails the first's own, as
`GET /api/health` computes it. Prints creates/s and the lag's median, p95 and max, and how
long the second took to catch up after the load stopped.

    python -m bench.replication [--seconds 20] [--clients 30] [--nosync] [--checkpoint "100 10"]
"""

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from iredapi_ldap.devslapd import replication
from iredapi_ldap.devslapd.replication import ReplicatingSlapd, replicating_providers
from iredapi_ldap.directory import ADAPTERS
from iredapi_ldap.services.health import _csn_times, _lag_ms

from .create_user import PASSWORD
from .run import Api, start_gunicorn


def lag_ms(behind, leader):
    """How far `behind`'s contextCSN trails `leader`'s, in ms, as health computes it."""
    return _lag_ms(_csn_times(leader), _csn_times(behind))


def context_csns(directory, suffix):
    entry = directory.get(suffix, ["contextCSN"])
    return entry.get("contextCSN") if entry else []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--nosync", action="store_true", help="providers without fsync")
    parser.add_argument("--checkpoint", default="1 1",
                        help="syncprov's olcSpCheckpoint (ops minutes)")
    args = parser.parse_args(argv)
    ReplicatingSlapd.nosync = args.nosync
    replication.SYNCPROV_CONFIG = replication.SYNCPROV_CONFIG.replace(
        "olcSpCheckpoint: 1 1", f"olcSpCheckpoint: {args.checkpoint}")
    with replicating_providers(2) as (providers, accounts), \
            tempfile.TemporaryDirectory() as workdir:
        first, second = providers
        uris = ",".join(p.ldap_uri for p in providers)
        config = Path(workdir) / "settings.yaml"
        config.write_text(
            f"ENABLE_RESTFUL_API: true\nLDAP_URI: '{uris}'\n"
            f"LDAP_BASEDN: '{accounts.domains_dn}'\nLDAP_ADMIN_BASEDN: '{accounts.admins_dn}'\n"
            f"LDAP_BIND_DN: '{accounts.vmailadmin_dn}'\n"
            f"LDAP_BIND_PASSWORD: '{accounts.vmailadmin_password}'\nDATA_DIR: '{workdir}'\n"
            f"SECRET_KEY: 'bench-replication-key-0123456789abcdef'\n")
        server, port = start_gunicorn(Path(workdir), "--workers", "4", config=config)
        try:
            run(args, port, accounts, first, second)
        finally:
            server.terminate()
            server.wait()


def run(args, port, accounts, first, second):
    admin = Api(port)
    admin.call("POST", "/api/login", {"username": accounts.admin_mail,
                                      "password": accounts.admin_password})
    domain = "lag.test"
    admin.call("POST", f"/api/domain/{domain}", {})
    directories = [ADAPTERS["python-ldap"]((p.ldap_uri,), accounts.vmailadmin_dn,
                                           accounts.vmailadmin_password)
                   for p in (first, second)]
    stop, created, failed, lock = threading.Event(), [0], [0], threading.Lock()

    def client(n):
        api, i = Api(port), 0
        api.cookie = admin.cookie
        while not stop.is_set():
            i += 1
            try:
                api.call("POST", f"/api/user/lag{n}x{i}@{domain}", {"password": PASSWORD})
                done = created
            except RuntimeError:
                done = failed
            with lock:
                done[0] += 1

    lags = []
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - start < args.seconds:
        leader, behind = (context_csns(d, accounts.suffix) for d in directories)
        lag = lag_ms(behind, leader)
        if lag is not None:
            lags.append(lag)
        time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    stopped = time.monotonic()
    while lag_ms(context_csns(directories[1], accounts.suffix),
                 context_csns(directories[0], accounts.suffix)) != 0:
        time.sleep(0.01)
    caught_up = time.monotonic() - stopped
    lags.sort()
    print(f"providers {'without' if args.nosync else 'with'} fsync, olcSpCheckpoint "
          f"{args.checkpoint}, {args.clients} clients, "
          f"{elapsed:.1f} s: {created[0] / elapsed:.0f} creates/s through A "
          f"({failed[0]} failed); lag of B behind A over {len(lags)} samples: median "
          f"{statistics.median(lags):.0f} ms, p95 {lags[int(len(lags) * 0.95)]:.0f} ms, "
          f"max {lags[-1]:.0f} ms; B caught up {caught_up:.2f} s after the load stopped")


if __name__ == "__main__":
    main()
