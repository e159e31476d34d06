"""Two code trees' creates side by side: each tree's API on one slapd, taking turns with raw
adds, for measuring a change to the create path in minutes.

    python -m bench.compare TREE_A TREE_B [--clients 5] [--trials 9] [--seconds 4]
                            [--workers 4,4] [--no-quota-a] [--no-quota-b]

Each tree (a checkout, e.g. `git worktree add /tmp/b HEAD`) runs its own `iredapi-ldap
serve` with a DATA_DIR of its own against one slapd as production runs it (synced writes).
Each trial gives A, B and raw python-ldap adds a burst of `--clients` concurrent clients,
each side in a fresh domain (a default quota of 1 GB, as in creates.py, unless
`--no-quota-a`/`-b`), in an order that rotates from trial to trial, so that both trees meet
the same slapd state. The first trial is a warm-up, left out of the means: on a fresh slapd
the first few hundred adds ran 1.4-2.4 times as fast as later ones (measured here), which
favours whichever side goes first. Prints each trial's creates/s, the sides' means, A/raw,
B/raw and B/A, each side's p95 latency (of the trials after the warm-up) and A's and B's
over raw's, each server's LDAP operations per create (from its /metrics), and whether
every API domain's counters (users and quota sum) equal the users found in it.

Two `make bench` runs differ by up to 0.08 in their ratios; here both trees share every
trial. The same code on both sides measured B/A 1.013 with the default 9 trials, and 1.109
with 3: short runs are noise.
"""

import argparse
import itertools
import statistics
import sys
import tempfile
from pathlib import Path

from passlib.hash import ldap_salted_sha512

from .create_user import PASSWORD, production_slapd
from .creates import Phase, run_clients
from .raw import RawLdap3
from .run import DEFAULT_CLIENT, Api, _ms, _p95, api_shaped_user, start_api


class Server:
    """One tree's `serve` against the shared slapd, logged in as the global admin."""

    def __init__(self, tree, workers, slapd, accounts, layout):
        workdir = Path(tempfile.mkdtemp(prefix="iredapi-bench-compare-"))
        self.process, _config, port = start_api(slapd, accounts, workdir, DEFAULT_CLIENT,
                                                workers, tree)
        self.api = Api(port)
        self.api.call("POST", "/api/login", {"username": accounts.admin_mail,
                                             "password": accounts.admin_password})
        self.phase = Phase(port, self.api.cookie, slapd.ldap_uri, accounts, layout)
        self.domains = []
        self.created = 0
        self.operations = {}    # {(operation, outcome): count} during its bursts

    def burst(self, clients, seconds):
        """run_clients(clients, seconds), with the LDAP operations it caused counted."""
        before = self.phase.operations()
        result = run_clients(clients, seconds)
        for key, count in self.phase.operations_since(before).items():
            self.operations[key] = self.operations.get(key, 0) + count
        self.created += result[0]
        return result

    def operations_per_create(self):
        """{operation outcome: count per create answered}, over its bursts."""
        return {f"{operation} {outcome}": round(count / (self.created or 1), 2)
                for (operation, outcome), count in sorted(self.operations.items()) if count}

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def compare(args):
    slapd, accounts, layout = production_slapd({}, ldap_salted_sha512.hash(PASSWORD))
    servers = []
    try:
        workers = (args.workers.split(",") * 2)[:2]
        for tree, count in zip((args.tree_a, args.tree_b), workers, strict=True):
            # One by one: a server that fails to start leaves those started to be stopped.
            servers.append(Server(Path(tree).resolve(), count, slapd, accounts, layout))
        return _trials(args, servers, slapd, accounts, layout)
    finally:
        for server in servers:
            server.stop()
        slapd.stop()


def _trials(args, servers, slapd, accounts, layout):
    admin = servers[0].api
    numbers = itertools.count()

    def fresh_domain(quota=True):
        domain = f"d{next(numbers)}.compare.bench"
        admin.call("POST", f"/api/domain/{domain}", {"defaultQuota": "1024"} if quota else {})
        return domain
    reader = RawLdap3(slapd.ldap_uri, accounts.vmailadmin_dn, accounts.vmailadmin_password)
    template = api_shaped_user(admin, reader, layout, fresh_domain(), "template")
    raw = servers[0].phase
    quota = {"A": not args.no_quota_a, "B": not args.no_quota_b}
    sides = [("A", servers[0]), ("B", servers[1]), ("raw", None)]
    rates = {name: [] for name, _ in sides}
    latencies = {name: [] for name, _ in sides}
    for trial in range(args.trials):
        shown = []
        for name, server in sides[trial % 3:] + sides[:trial % 3]:
            if server is None:
                domain = fresh_domain()
                created, elapsed, burst_latencies, errors = run_clients(
                    [raw.raw_add(n, domain, template) for n in range(args.clients)],
                    args.seconds)
            else:
                domain = fresh_domain(quota[name])
                server.domains.append(domain)
                created, elapsed, burst_latencies, errors = server.burst(
                    [server.phase.api_create(n, domain) for n in range(args.clients)],
                    args.seconds)
            rate = created / elapsed
            if trial:  # the first trial warms the slapd up
                rates[name].append(rate)
                latencies[name] += burst_latencies
            shown.append(f"{name} {rate:5.1f}/s" + (f" ({len(errors)} errors)" if errors else ""))
        print(f"trial {trial}{' (warm-up)' if not trial else ''}: " + "  ".join(shown),
              flush=True)
    return _report(rates, latencies, servers)


def _report(rates, latencies, servers):
    mean = {name: statistics.mean(values) for name, values in rates.items()}
    p95 = {name: _p95(values) for name, values in latencies.items()}
    print(" ".join(f"{name}: {value:.1f}/s" for name, value in mean.items()))
    print(f"A/raw {mean['A'] / mean['raw']:.3f}  B/raw {mean['B'] / mean['raw']:.3f}  "
          f"B/A {mean['B'] / mean['A']:.3f}")
    print("p95: " + "  ".join(f"{name} {_ms(value)}" for name, value in p95.items())
          + f"  A/raw {p95['A'] / p95['raw']:.2f}  B/raw {p95['B'] / p95['raw']:.2f}")
    exact = True
    for name, server in zip("AB", servers, strict=True):
        print(f"LDAP operations per create, {name}: {server.operations_per_create()}")
        for domain in server.domains:
            counter, users = server.phase.counter(domain), server.phase.users(domain)
            if counter != users:
                exact = False
                print(f"{name} {domain}: counter {counter} (-1: quota sum wrong), "
                      f"{users} users")
    print("counters exact" if exact else "COUNTERS DIFFER")
    return 0 if exact else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree_a", help="a checkout of the project (side A)")
    parser.add_argument("tree_b", help="another checkout (side B)")
    parser.add_argument("--clients", type=int, default=5, help="concurrent clients (5)")
    parser.add_argument("--trials", type=int, default=9,
                        help="trials, the first a warm-up (9)")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="seconds per side and trial (4)")
    parser.add_argument("--workers", default="4",
                        help="gunicorn workers of A and B: one number, or A,B (4)")
    parser.add_argument("--no-quota-a", action="store_true",
                        help="A's domains without a default quota (no quota sum moved)")
    parser.add_argument("--no-quota-b", action="store_true",
                        help="B's domains without a default quota")
    args = parser.parse_args(argv)
    if args.trials < 2:
        parser.error("--trials must be at least 2: the first is a warm-up")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
