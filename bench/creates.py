"""Concurrent creates in one domain: 1, 5 and 16 clients creating users through the API beside
as many raw python-ldap connections adding the same entries, and as many adding them each
after an increment of the domain's user counter, and as many doing the LDAP operations of an
exact create (the floor), in one run.

The API runs under gunicorn (4 workers, LDAP_CLIENT python-ldap) as `make bench` starts it;
every client is a thread with its own HTTP connection (all logged in with one cookie) or its
own python-ldap connection (bound as the API's service account). Each concurrency level gets
four fresh domains, one per side, so all start from the same empty domain and grow alike;
the raw adds write the very entry the API writes (a user created through the API, read back,
`like()`). The "counted" side first increments the domain's user counter and reads it back
in the same operation (RFC 4525, 4527): the cost of one synchronous counter write before
each add, which any implementation that writes each create's count before its add pays. The
"floor" side does, from as many python-ldap connections and without HTTP or SQL, the LDAP
operations of an exact create of this API (the domain read, the address search, the admin
lookup, the counters' modify asserting the quota sum in a turn its clients share, the add):
the ceiling of an API that makes these operations one after the other, as this one does. The
sides take turns in ROUNDS short runs per level, in an order that rotates, so drifts of the
machine fall on all. After each level the API domain's `domainCurrentUserNumber` is compared
with the users a one-level search finds in it, and its `domainCurrentQuotaSize` with their
quota (the domains have a default quota of 1024 MB, so every create moves the quota sum too;
a counter shown as -1 means the quota sum was wrong).

    python -m bench.creates [--quick]       (as `python -m bench.run --only creates`)

`make bench` runs this phase too and writes its table into bench/RESULTS.md.
"""

import argparse
import itertools
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from passlib.hash import ldap_salted_sha512

from iredapi_ldap.services.references import owner_filter

from .create_user import PASSWORD, like, production_slapd
from .raw import RawLdap3, RawPythonLdap
from .run import (
    DEFAULT_CLIENT,
    FULL,
    QUICK,
    ROUNDS,
    Api,
    _ms,
    _p95,
    api_shaped_user,
    count_operations,
    start_api,
)

LEVELS = (1, 5, 16)  # concurrent clients
QUOTA = 1024 ** 3    # bytes: the domains' default quota, each user's
# API / raw throughput at least (1 client; more), API p95 at most this many raw p95s.
TARGETS = {"single": 0.8, "concurrent": 0.9, "p95": 2.0}
OPERATIONS_METRIC = "iredapi_ldap_ldap_operations_total"


@dataclass
class Side:
    """One side's creates at one level, summed over its rounds."""

    created: int = 0
    elapsed: float = 0.0
    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def rate(self):
        return self.created / self.elapsed if self.elapsed else 0.0

    def add(self, created, elapsed, latencies, errors):
        self.created += created
        self.elapsed += elapsed
        self.latencies += latencies
        self.errors += errors


@dataclass
class Level:
    """The figures of one concurrency level."""

    clients: int
    api: Side
    raw: Side
    counted: Side       # raw adds, each after an increment of the counter
    floor: Side         # raw clients doing the LDAP operations of an exact create
    counter: int        # the API domain's domainCurrentUserNumber afterwards
    users: int          # the users a one-level search finds in the API domain
    operations: dict    # {(operation, outcome): count} the API's workers issued meanwhile


def run_clients(operations, seconds):
    """Each of `operations` (a callable without arguments) in its own thread, over and
    over for `seconds` from a common start. Returns (operations that succeeded, seconds
    from the start until the last thread ended, their latencies, the errors)."""
    latencies, errors, lock = [], [], threading.Lock()
    start_line = threading.Barrier(len(operations) + 1)
    deadline = [0.0]

    def client(operation):
        mine, failed = [], []
        start_line.wait()
        while time.perf_counter() < deadline[0]:
            started = time.perf_counter()
            try:
                operation()
                mine.append(time.perf_counter() - started)
            except Exception as exc:  # every failure counts, whatever it is
                failed.append(str(exc)[:200])
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(op,)) for op in operations]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    return len(latencies), time.perf_counter() - started, latencies, errors


class Phase:
    """The concurrent-creates phase against one slapd and one API under gunicorn."""

    def __init__(self, port, cookie, uri, accounts, layout):
        self.port, self.cookie, self.uri = port, cookie, uri
        self.accounts, self.layout = accounts, layout
        self.admin = Api(port)
        self.admin.cookie = cookie
        self.reader = RawLdap3(uri, accounts.vmailadmin_dn, accounts.vmailadmin_password)

    def measure(self, seconds, levels=LEVELS, rounds=ROUNDS):
        """A Level for each number of clients in `levels`, `seconds` per side."""
        return [self._level(clients, seconds, rounds) for clients in levels]

    def _level(self, clients, seconds, rounds):
        print(f"concurrent creates, {clients} clients ...", file=sys.stderr)
        api_domain, raw_domain = f"api{clients}.creates.bench", f"raw{clients}.creates.bench"
        counted_domain = f"counted{clients}.creates.bench"
        floor_domain = f"floor{clients}.creates.bench"
        for domain in (api_domain, raw_domain, counted_domain, floor_domain):
            # A default quota, as iRedMail's domains have: each create also moves the
            # quota sum (text, replaced under an assertion), not only the user counter.
            self.admin.call("POST", f"/api/domain/{domain}", {"defaultQuota": "1024"})
        template = api_shaped_user(self.admin, self.reader, self.layout, raw_domain, "template")
        api_ops = [self.api_create(n, api_domain) for n in range(clients)]
        raw_ops = [self.raw_add(n, raw_domain, template) for n in range(clients)]
        counted_ops = [self.raw_add(n, counted_domain, template, counted=True)
                       for n in range(clients)]
        turn, noted_sum = threading.Lock(), [0]  # the floor's clients share them
        floor_ops = [self.exact_floor(n, floor_domain, template, turn, noted_sum)
                     for n in range(clients)]
        api, raw, counted, floor = Side(), Side(), Side(), Side()
        before = self.operations()
        sides = [(api, api_ops), (raw, raw_ops), (counted, counted_ops), (floor, floor_ops)]
        for turn_number in range(rounds):  # each round starts with the next side
            start = turn_number % len(sides)
            for side, operations in sides[start:] + sides[:start]:
                side.add(*run_clients(operations, seconds / rounds))
        operations = self.operations_since(before)
        if self.counter(floor_domain) != self.users(floor_domain):
            floor.errors.append("the floor's counters differ from its users")
        return Level(clients, api, raw, counted, floor, self.counter(api_domain),
                     self.users(api_domain), operations)

    def api_create(self, n, domain):
        """A client: creates users c{n}x0, c{n}x1, ... in `domain` through the API."""
        api = Api(self.port)
        api.cookie = self.cookie
        numbers = itertools.count()
        return lambda: api.call("POST", f"/api/user/c{n}x{next(numbers)}@{domain}",
                                {"password": PASSWORD})

    def raw_add(self, n, domain, template, counted=False):
        """A raw client's add; `counted`: after the domain's user counter went up by one
        (an increment read back: no limit checked, no quota sum moved, nothing to lose a
        race): the cost of one synchronous counter write before the add."""
        raw = RawPythonLdap(self.uri, self.accounts.vmailadmin_dn,
                            self.accounts.vmailadmin_password)
        numbers, domain_dn = itertools.count(), self.layout.domain_dn(domain)

        def add():
            mail = f"c{n}x{next(numbers)}@{domain}"
            if counted:
                raw.increment_read(domain_dn, "domainCurrentUserNumber")
            raw.add(self.layout.user_dn(mail), like(template, mail))
        return add

    def exact_floor(self, n, domain, template, turn, noted_sum):
        """A raw client doing, without HTTP or SQL, the LDAP operations an exact create of
        this API must make: read the domain entry (access, limits), search for an account
        with the address, look for a standalone admin at it, then, in a turn the clients of
        this process share (`turn`, a lock) and asserting the quota sum they last wrote
        (`noted_sum`), count the user and its quota in one modify read back, and add the
        user: the ceiling of an API that makes these operations one after the other."""
        raw = RawPythonLdap(self.uri, self.accounts.vmailadmin_dn,
                            self.accounts.vmailadmin_password)
        numbers, domain_dn = itertools.count(), self.layout.domain_dn(domain)

        def create():
            mail = f"c{n}x{next(numbers)}@{domain}"
            raw.read(domain_dn)
            if raw.find(self.accounts.domains_dn, owner_filter(mail)) or \
                    raw.exists(self.layout.admin_dn(mail)):
                raise RuntimeError(f"{mail} is taken")
            with turn:
                raw.increment_read(domain_dn, "domainCurrentUserNumber", (noted_sum[0], QUOTA))
                noted_sum[0] += QUOTA
            raw.add(self.layout.user_dn(mail), like(template, mail))
        return create

    def counter(self, domain):
        """domainCurrentUserNumber, or -1 when domainCurrentQuotaSize is not that many
        default quotas (1024 MB each): the quota sum must stay exact too."""
        attributes = self.reader.read(self.layout.domain_dn(domain))["attributes"]

        def value(name):
            found = attributes[name]
            return int(found[0] if isinstance(found, list) else found)
        users = value("domainCurrentUserNumber")
        return users if value("domainCurrentQuotaSize") == users * QUOTA else -1

    def users(self, domain):
        """The users in the domain, counted with a (paged) one-level search."""
        return self.reader.page_through(self.layout.container_dn(domain, "Users"),
                                        "(objectClass=mailUser)")

    def operations_since(self, before):
        """{(operation, outcome): count} of the API's LDAP operations since `operations()`
        returned `before` (those that did not change left out)."""
        after = self.operations()
        return {key: after[key] - before.get(key, 0) for key in after
                if after[key] != before.get(key, 0)}

    def operations(self):
        """{(operation, outcome): count} of the API's LDAP operations (all its workers)."""
        counts = {}
        for line in self.admin.call("GET", "/metrics", accept="text/plain").decode() \
                .splitlines():
            if line.startswith(OPERATIONS_METRIC + "{"):
                labels, value = line[len(OPERATIONS_METRIC) + 1:].rsplit("} ", 1)
                pairs = dict(pair.split("=", 1) for pair in labels.split(","))
                key = (pairs["operation"].strip('"'), pairs["outcome"].strip('"'))
                counts[key] = counts.get(key, 0) + float(value)
        return counts


def ops_per_create(config, accounts, domain):
    """The LDAP operations of one create, alone, in-process (as in the throughput table)."""
    return count_operations(config, accounts, [
        ("POST", f"/api/user/ops-create@{domain}", {"password": PASSWORD})])[0]


def table(levels, single_ops):
    """The report's section: (lines of Markdown, targets missed)."""
    lines = ["## Concurrent creates in one domain", "",
             f"API: gunicorn, 4 workers, LDAP_CLIENT {DEFAULT_CLIENT}, one HTTP connection "
             "per client thread; raw: one python-ldap connection per client thread adding "
             "the entry the API writes; counted: the same raw adds, each after an increment "
             "of the domain's user counter read back in the same operation (RFC 4525 and "
             "4527), the cost of one synchronous counter write before each add (no limit "
             "checked, no quota sum moved): an implementation that writes each create's "
             "count before its add does not pass `counted / raw` (only one that counts "
             "several creates in one write could); floor: as many python-ldap connections "
             "doing the LDAP operations an exact create of this API makes, without HTTP or "
             "SQL (read the domain, search for the address, look for an admin at it, count "
             "the user and its quota in one modify asserting the quota sum, in a turn the "
             "clients share, then add it): the ceiling of an API that makes these "
             "operations one after the other, as this one does. Fresh domains per level; "
             "the four sides take turns, in a rotating order.",
             "", "| clients | API creates/s | raw adds/s | API / raw | counted adds/s "
             "| counted / raw | floor creates/s | floor / raw "
             "| API p50 | API p95 | raw p50 | raw p95 | API p95 / raw p95 "
             "| errors | domainCurrentUserNumber | users (one-level search) "
             "| LDAP operations per API create |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
             "| --- | --- | --- | --- |"]
    missed = []
    for level in levels:
        row, level_missed = _row(level)
        lines.append(row)
        missed += level_missed
    lines += ["", f"LDAP operations per create: {single_ops} for one create alone "
                  "(in-process, as in the throughput table); the last column divides the "
                  "operations the API's workers reported in /metrics during a level by the "
                  "creates it answered (a reservation that lost a race is read and tried "
                  "again).", ""]
    lines += [f"- {_clients(level.clients)}: " + ", ".join(
        f"{operation} {outcome} {count:.0f}"
        for (operation, outcome), count in sorted(level.operations.items()))
        for level in levels]
    for level in levels:
        lines += [f"- {_clients(level.clients)}, error: {error}"
                  for error in (level.api.errors + level.raw.errors
                                + level.counted.errors + level.floor.errors)[:3]]
    return lines, missed


def _row(level):
    api, raw = level.api, level.raw
    ratio = api.rate / raw.rate if raw.rate else 0.0
    p95_ratio = _p95(api.latencies) / _p95(raw.latencies) if raw.latencies else float("nan")
    target = TARGETS["single"] if level.clients == 1 else TARGETS["concurrent"]
    who, missed = f"creates by {_clients(level.clients)}", []
    if ratio < target:
        missed.append(f"{who}: {ratio:.2f} of raw, target {target}")
    if level.clients > 1 and not p95_ratio <= TARGETS["p95"]:
        missed.append(f"{who}: p95 {p95_ratio:.2f} x raw, target at most {TARGETS['p95']}")
    if level.counter != level.users:
        missed.append(f"{who}: domainCurrentUserNumber {level.counter}, {level.users} users")
    errors = sum(len(side.errors) for side in (api, raw, level.counted, level.floor))
    if errors:
        missed.append(f"{who}: {errors} errors")
    total = sum(level.operations.values())
    counted = level.counted.rate / raw.rate if raw.rate else 0.0
    floor = level.floor.rate / raw.rate if raw.rate else 0.0
    row = (f"| {level.clients} | {api.rate:.1f} | {raw.rate:.1f} | {ratio:.2f}"
           f"{'' if ratio >= target else f' (target {target})'} "
           f"| {level.counted.rate:.1f} | {counted:.2f} | {level.floor.rate:.1f} | {floor:.2f} "
           f"| {_ms(_median(api.latencies))} | {_ms(_p95(api.latencies))} "
           f"| {_ms(_median(raw.latencies))} | {_ms(_p95(raw.latencies))} | {p95_ratio:.2f}"
           f"{'' if level.clients == 1 or p95_ratio <= TARGETS['p95'] else ' (target 2)'} "
           f"| {errors} | {level.counter} | {level.users}"
           f"{'' if level.counter == level.users else ' (counter differs)'} "
           f"| {total / api.created if api.created else float('nan'):.2f} |")
    return row, missed


def _clients(count):
    return f"{count} client" + ("s" if count > 1 else "")


def _median(values):
    return statistics.median(values) if values else float("nan")


def main(argv=None):
    """`python -m bench.creates [--quick]`: this phase alone; prints its table (RESULTS.md
    is left to `make bench`) and exits 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['creates']:g} s per measurement instead of "
                             f"{FULL['creates']:g} s")
    args = parser.parse_args(argv)
    return run_alone(QUICK if args.quick else FULL)


def run_alone(plan):
    """This phase alone against its own slapd and API: prints the table, returns 1 when a
    target is missed."""
    slapd, accounts, layout = production_slapd({}, ldap_salted_sha512.hash(PASSWORD))
    workdir = Path(tempfile.mkdtemp(prefix="iredapi-bench-creates-"))
    server = None
    try:
        server, config, port = start_api(slapd, accounts, workdir, DEFAULT_CLIENT)
        api = Api(port)
        api.call("POST", "/api/login", {"username": accounts.admin_mail,
                                        "password": accounts.admin_password})
        lines, missed = measure(api, config, slapd, accounts, layout, plan["creates"])
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        slapd.stop()
    print("\n".join(lines + ["", "## Targets missed" if missed else "## All targets met", ""]
                    + [f"- {item}" for item in missed]))
    return 1 if missed else 0


def measure(api, config, slapd, accounts, layout, seconds, single_ops=None):
    """The phase against a running API (`api`, logged in; `config`, its settings file):
    (the report's lines, the targets missed). `single_ops`: the LDAP operations of one
    create already counted (the throughput table's); counted here in a fresh domain when
    not given."""
    phase = Phase(api.port, api.cookie, slapd.ldap_uri, accounts, layout)
    if single_ops is None:
        phase.admin.call("POST", "/api/domain/ops.creates.bench", {})
        single_ops = ops_per_create(config, accounts, "ops.creates.bench")
    return table(phase.measure(seconds), single_ops)


if __name__ == "__main__":
    sys.exit(main())
