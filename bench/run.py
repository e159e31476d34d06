"""`make bench`: how close the API comes to slapd itself, and how it scales.

One run, one slapd as production runs it (iRedMail's indexes, size limit, map size, synced
writes), domains preloaded with `slapadd -q`, the API under gunicorn (4 workers) over HTTP,
once with each LDAP_CLIENT (the targets apply to the default). Every figure is a ratio or a
difference measured in this run against the same slapd. Writes bench/RESULTS.md and exits 1
when a target is missed.

    python -m bench.run [--quick] [--only creates]
"""

import argparse
import datetime
import http.client
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from passlib.hash import ldap_salted_sha512

from iredapi_ldap.config import Settings

from .create_user import PASSWORD, like, production_slapd
from .raw import RawLdap3, RawPythonLdap

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
# "creates": seconds per side and concurrency level of the concurrent creates (creates.py)
FULL = {"sizes": (100, 10_000, 100_000), "main": 10_000, "pairs": 200, "seconds": 3.0,
        "concurrency": 30.0, "creates": 10.0}
QUICK = {"sizes": (100, 1_000, 5_000), "main": 1_000, "pairs": 40, "seconds": 1.0,
         "concurrency": 8.0, "creates": 3.0}
ROUNDS = 6  # turns taken by the API and the raw clients in each throughput measurement
CLIENTS = ("python-ldap", "ldap3")  # LDAP_CLIENT values; the API is measured with each
DEFAULT_CLIENT = Settings.ldap_client
TARGETS = {"read": 0.5, "write": 0.7, "overhead_growth": 1.3, "memory_growth": 1.2}


class Api:
    """HTTP/1.1 to the gunicorn under test, keeping the connection alive as clients do."""

    def __init__(self, port):
        self.port, self.cookie, self._conn = port, None, None

    def call(self, method, path, data=None, accept=None):
        try:
            return self._call(method, path, data, accept)
        except (http.client.HTTPException, ConnectionError):
            self._conn = None  # the server closed the kept connection: once more, anew
            return self._call(method, path, data, accept)

    def _call(self, method, path, data, accept):
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn = self._conn
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.cookie:
            headers["Cookie"] = f"iRedAdmin-Pro-LDAP={self.cookie}"
        if accept:
            headers["Accept"] = accept
        conn.request(method, path, urlencode(data or {}), headers)
        response = conn.getresponse()
        body = response.read()
        if response.will_close:
            conn.close()
            self._conn = None
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {body[:200]!r}")
        cookie = response.getheader("Set-Cookie") or ""
        if cookie.startswith("iRedAdmin-Pro-LDAP="):
            self.cookie = cookie.split(";")[0].split("=", 1)[1]
        return body


def rates(operations, seconds, at_least=5, rounds=ROUNDS):
    """Operations per second of each `operation(i)`, about `seconds` each.

    The operations take turns in `rounds` short runs, so slow drifts of the machine and of
    slapd (page cache, disk flushes) fall on all of them alike instead of on whichever ran
    last. Each run does at least `at_least` operations.
    """
    counts, elapsed, done = [0] * len(operations), [0.0] * len(operations), 0
    for _ in range(rounds if seconds else 1):
        for n, operation in enumerate(operations):
            start, count = time.perf_counter(), 0
            while count < at_least or time.perf_counter() - start < seconds / rounds:
                operation(done)
                count, done = count + 1, done + 1
            counts[n] += count
            elapsed[n] += time.perf_counter() - start
    return [count / spent for count, spent in zip(counts, elapsed, strict=True)]


def write_config(slapd, accounts, workdir, client):
    """The API's settings file for this slapd and LDAP_CLIENT `client`. Each client's server
    has a DATA_DIR of its own: a server empties its metrics directory when it starts (which
    hid most of the first server's counts from its /metrics) and listens on a control socket
    there."""
    config = workdir / f"settings-{client}.yaml"
    data_dir = workdir / f"data-{client}"
    data_dir.mkdir(exist_ok=True)
    config.write_text(
        f"ENABLE_RESTFUL_API: true\nLDAP_URI: '{slapd.ldap_uri}'\n"
        f"LDAP_BASEDN: '{accounts.domains_dn}'\nLDAP_ADMIN_BASEDN: '{accounts.admins_dn}'\n"
        f"LDAP_BIND_DN: '{accounts.vmailadmin_dn}'\n"
        f"LDAP_BIND_PASSWORD: '{accounts.vmailadmin_password}'\nDATA_DIR: '{data_dir}'\n"
        f"LDAP_CLIENT: '{client}'\n")
    return config


def start_api(slapd, accounts, workdir, client, workers=4, tree=None):
    """`iredapi-ldap serve` with `workers` workers; `tree`: a checkout whose package it
    runs (not the one installed in the virtualenv). Returns (process, settings file, port)."""
    config = write_config(slapd, accounts, workdir, client)
    port = _free_port()
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    server = subprocess.Popen(
        [sys.executable, "-m", "iredapi_ldap", "serve", "--config", str(config), "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=tree, env=env, stdout=subprocess.DEVNULL,
        stderr=open(workdir / f"server-{client}.log", "w"))
    return server, config, wait_listening(server, port)


def start_gunicorn(workdir, *options, config=None):
    """gunicorn with `iredapi_ldap/gunicorn_conf.py` (serve's settings and worker) and the
    command-line `options`, on a free port; `config`: the API's settings file. Returns
    (process, port)."""
    port = _free_port()
    env = {**os.environ, **({"IREDAPI_CONFIG": str(config)} if config else {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:iredapi_ldap.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", *options],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=open(workdir / f"server-{port}.log", "w"))
    return server, wait_listening(server, port)


def wait_listening(server, port):
    """`port` once the server process accepts connections on it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the API did not start; see its log in the work directory")


def _free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def throughput_table(apis, raws, layout, accounts, domain, users, seconds):
    """Rows: (operation, kind, {adapter: API ops/s}, ldap3 ops/s, python-ldap ops/s)."""
    admin_dn = layout.user_dn(accounts.admin_mail)
    target = f"u000001@{domain}"
    template = api_shaped_user(next(iter(apis.values())), raws[0], layout, domain, "template")
    unique = iter(range(10**9))
    rows = []

    def measure(name, kind, api_op, raw_op, secs=seconds, at_least=5):
        measured = rates([*(lambda i, a=api: api_op(a, i) for api in apis.values()),
                          *(lambda i, r=r: raw_op(r, i) for r in raws)], secs, at_least)
        rows.append((name, kind, dict(zip(apis, measured, strict=False)),
                     *measured[len(apis):]))

    login = {"username": accounts.admin_mail, "password": accounts.admin_password}
    measure("login", "read", lambda a, i: a.call("POST", "/api/login", login),
            lambda r, i: r.bind(admin_dn, accounts.admin_password))
    for raw in raws:  # back to the service account after the login binds
        raw.bind(accounts.vmailadmin_dn, accounts.vmailadmin_password)
    measure("GET /api/user/<mail>", "read",
            lambda a, i: a.call("GET", f"/api/user/{target}"),
            lambda r, i: r.read(layout.user_dn(target)))
    measure("POST /api/user/<mail> (create)", "write",
            lambda a, i: a.call("POST", f"/api/user/api{next(unique)}@{domain}",
                                {"password": PASSWORD}),
            lambda r, i: _raw_add(r, layout, f"raw{next(unique)}@{domain}", template))
    measure("PUT /api/user/<mail> (one attribute)", "write",
            lambda a, i: a.call("PUT", f"/api/user/{target}", {"name": f"n{i}"}),
            lambda r, i: r.modify(layout.user_dn(target), "cn", f"n{i}"))
    users_dn = layout.container_dn(domain, "Users")
    measure(f"GET /api/users/<domain> ({users} users)", "read",
            lambda a, i: a.call("GET", f"/api/users/{domain}"),
            lambda r, i: r.page_through(users_dn), secs=0, at_least=2)
    measure(f"GET /api/ldif/domain/<domain> ({users} users)", "read",
            lambda a, i: a.call("GET", f"/api/ldif/domain/{domain}", accept="text/ldif"),
            lambda r, i: r.page_through(users_dn), secs=0, at_least=2)
    # Every call sets a value the users do not hold yet, so each one changes them all.
    measure(f"PUT /api/users/<domain> ({users} users)", "write",
            lambda a, i: a.call("PUT", f"/api/users/{domain}",
                                {"language": "en_US" if next(unique) % 2 else "en_GB"}),
            lambda r, i: _raw_bulk(r, layout, domain, "preferredLanguage",
                                   "de_DE" if next(unique) % 2 else "fr_FR"),
            secs=0, at_least=1)
    return rows


def http_floor(port, constant_port, binder, reader, layout, accounts, domain, seconds):
    """What one HTTP request costs here when the API does no LDAP work (POST /api/logout),
    and when gunicorn runs an app that does nothing at all (`constant_port`), beside a raw
    ldap3 bind (`binder`) and a raw ldap3 read (`reader`, bound as the API's account),
    taking turns: the ceiling of every single-request ratio. Returns the four rates."""
    api, constant = Api(port), Api(constant_port)
    admin_dn, target_dn = layout.user_dn(accounts.admin_mail), layout.user_dn(f"u000001@{domain}")
    return rates([lambda i: api.call("POST", "/api/logout"),
                  lambda i: constant.call("POST", "/api/logout"),
                  lambda i: binder.bind(admin_dn, accounts.admin_password),
                  lambda i: reader.read(target_dn)], seconds)


def api_shaped_user(api, reader, layout, domain, local):
    """A user created through the API, read back: the template of the raw adds, so that they
    write the very entry the API writes (iRedMail's 34 services, and so on)."""
    mail = f"{local}@{domain}"
    api.call("POST", f"/api/user/{mail}", {"password": PASSWORD})
    return {name: values if isinstance(values, list) else [values]
            for name, values in reader.read(layout.user_dn(mail))["attributes"].items()}


def _raw_add(raw, layout, mail, template):
    raw.add(layout.user_dn(mail), like(template, mail))


def _raw_bulk(raw, layout, domain, attribute, value):
    """What a client would do for PUT /api/users: page through the users, modify each."""
    base = layout.container_dn(domain, "Users")
    dns = [e["dn"] if isinstance(e, dict) else e[0] for e in _dns(raw, base)]
    for dn in dns:
        raw.modify(dn, attribute, value)


def _dns(raw, base):
    if isinstance(raw, RawLdap3):
        return raw.conn.extend.standard.paged_search(base, "(objectClass=mailUser)", "LEVEL",
                                                     attributes=["1.1"], paged_size=500,
                                                     generator=True)
    import ldap
    return raw.conn.search_s(base, ldap.SCOPE_ONELEVEL, "(objectClass=mailUser)", ["1.1"])


def create_latency(api, raw, reader, layout, domains, pairs):
    """{size: (api seconds, raw seconds)} for alternating API creates and raw adds (through
    `raw`) of the same entries. `reader` is a RawLdap3 that reads the template."""
    out = {}
    for size, domain in domains.items():
        api_times, raw_times = [], []
        template = api_shaped_user(api, reader, layout, domain, "lat-template")
        for i in range(pairs):
            start = time.perf_counter()
            api.call("POST", f"/api/user/lat{i}@{domain}", {"password": PASSWORD})
            api_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            _raw_add(raw, layout, f"rawlat{i}@{domain}", template)
            raw_times.append(time.perf_counter() - start)
        out[size] = (api_times, raw_times)
    return out


def concurrency(port, cookie, domain, seconds, clients=16):
    """Mixed reads and writes from `clients` threads: (requests/s, p95 s, errors)."""
    latencies, errors, lock = [], [], threading.Lock()
    stop = time.monotonic() + seconds

    def client(n):
        api = Api(port)
        api.cookie = cookie
        rng, i = random.Random(n), 0
        while time.monotonic() < stop:
            i += 1
            roll = rng.random()
            try:
                start = time.perf_counter()
                if roll < 0.6:
                    api.call("GET", f"/api/user/u{rng.randrange(1000):06d}@{domain}")
                elif roll < 0.85:
                    api.call("PUT", f"/api/user/u{rng.randrange(1000):06d}@{domain}",
                             {"name": f"c{n}-{i}"})
                else:
                    api.call("POST", f"/api/user/cc{n}x{i}@{domain}", {"password": PASSWORD})
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as exc:  # every failure counts, whatever it is
                with lock:
                    errors.append(str(exc)[:200])
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, _p95(latencies), errors


def export_memory(config, domains, accounts):
    from .export import _child
    return {size: _child("api", config, domain, accounts)["rss_kib"] / 1024
            for size, domain in domains.items()}


def _p95(values):
    return sorted(values)[int(0.95 * (len(values) - 1))] if values else float("nan")


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import os
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), " \
           f"Python {platform.python_version()}"


class CountingDirectory:
    """The real directory, counting the LDAP operations a request makes."""

    OPERATIONS = ("get", "search", "add", "modify", "delete", "rename", "check_password")

    def __init__(self, directory):
        self._directory, self.count = directory, 0

    def __getattr__(self, name):
        attribute = getattr(self._directory, name)
        if name not in self.OPERATIONS:
            return attribute

        def counted(*args, **kwargs):
            self.count += 1
            return attribute(*args, **kwargs)
        return counted


def ops_per_request(config, accounts, domain):
    """LDAP operations the API issues for each benchmarked request (a paged search counts
    once), measured in-process with the real directory."""
    login = {"username": accounts.admin_mail, "password": accounts.admin_password}
    return count_operations(config, accounts, [
        ("POST", "/api/login", login), ("GET", f"/api/user/u000002@{domain}", None),
        ("POST", f"/api/user/ops1@{domain}", {"password": PASSWORD}),
        ("PUT", f"/api/user/u000002@{domain}", {"name": "ops"}),
        ("GET", f"/api/users/{domain}", None),
        ("GET", f"/api/ldif/domain/{domain}", None),
        ("PUT", f"/api/users/{domain}", {"language": "it_IT"})])


def count_operations(config, accounts, requests):
    """The LDAP operations of each of `requests` ((method, path, data)), sent in-process as
    the global admin with the real directory, each after a warm-up of the session cache."""
    from falcon import testing

    from iredapi_ldap import directory as directory_module
    from iredapi_ldap.app import create_app
    from iredapi_ldap.config import load_settings
    settings = load_settings(str(config))
    counting = CountingDirectory(directory_module.from_settings(settings))
    client = testing.TestClient(create_app(settings, counting))
    login = {"username": accounts.admin_mail, "password": accounts.admin_password}
    cookie = client.simulate_post("/api/login", json=login).cookies["iRedAdmin-Pro-LDAP"]
    cookies = {"iRedAdmin-Pro-LDAP": cookie.value}
    counts = []
    for method, path, data in requests:
        client.simulate_get("/api/domains", cookies=cookies)  # warm the session cache
        counting.count = 0
        client.simulate_request(method, path, json=data, cookies=cookies)
        counts.append(counting.count)
    return counts


def report(rows, counts, floor, latency, memory, load, creates, quick, command):
    """RESULTS.md's text and the targets missed; `creates`: the concurrent creates'
    section (creates.table: its lines and its targets missed)."""
    other = next(client for client in CLIENTS if client != DEFAULT_CLIENT)
    lines = ["# Benchmark results\n",
             f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
             f"- machine: {machine()}", f"- command: `{command}`"
             + (" (quick sizes)" if quick else ""), "",
             "## Throughput, single client (operations per second)", "",
             f"The API runs with its default directory adapter (LDAP_CLIENT: {DEFAULT_CLIENT}); "
             f"the targets apply to it. The column `API, {other}` is the same API with "
             f"LDAP_CLIENT: {other}.", "",
             f"| operation | API | raw ldap3 | API / ldap3 | raw python-ldap | API / python-ldap "
             f"| API, {other} | API, {other} / ldap3 | LDAP operations per API request |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    missed = []
    for (name, kind, apis, ldap3_rate, pyldap_rate), ops in zip(rows, counts, strict=True):
        api = apis[DEFAULT_CLIENT]
        ratio = api / ldap3_rate
        target = TARGETS[kind]
        mark = "" if ratio >= target else f" (target {target})"
        if mark:
            missed.append(f"{name}: {ratio:.2f} of raw ldap3, target {target}")
        lines.append(f"| {name} | {api:.1f} | {ldap3_rate:.1f} | {ratio:.2f}{mark} "
                     f"| {pyldap_rate:.1f} | {api / pyldap_rate:.2f} | {apis[other]:.1f} "
                     f"| {apis[other] / ldap3_rate:.2f} | {ops} |")
    floor_rate, constant_rate, bind_rate, read_rate = floor
    lines += ["", f"HTTP floor: a request that does no LDAP work (POST /api/logout) ran at "
                  f"{floor_rate:.1f}/s beside {bind_rate:.1f} raw ldap3 binds/s and "
                  f"{read_rate:.1f} raw ldap3 reads/s: no endpoint can pass "
                  f"{floor_rate / bind_rate:.2f} of a raw bind or {floor_rate / read_rate:.2f} "
                  f"of a raw read here, whatever it does behind HTTP. A WSGI app that does "
                  f"nothing (`bench/constant_app.py`) under the same gunicorn settings and "
                  f"worker ran at {constant_rate:.1f}/s, {constant_rate / bind_rate:.2f} of a "
                  f"raw bind: the ceiling HTTP and gunicorn set before the API does anything."]
    lines += ["", "## Create-user latency by domain size (API over HTTP, raw python-ldap add "
                  "of the same entry, alternating)", "",
              "| users in domain | API p50 | API p95 | raw p50 | raw p95 | API overhead "
              "(median of pair differences) |", "| --- | --- | --- | --- | --- | --- |"]
    overheads = {}
    for size, (api_times, raw_times) in latency.items():
        overheads[size] = statistics.median(
            a - r for a, r in zip(api_times, raw_times, strict=True))
        lines.append(f"| {size} | {_ms(statistics.median(api_times))} | {_ms(_p95(api_times))} "
                     f"| {_ms(statistics.median(raw_times))} | {_ms(_p95(raw_times))} "
                     f"| {_ms(overheads[size])} |")
    sizes = sorted(overheads)
    growth = overheads[sizes[-1]] / overheads[sizes[0]]
    lines.append(f"\nOverhead at {sizes[-1]} users / at {sizes[0]}: {growth:.2f} "
                 f"(target at most {TARGETS['overhead_growth']})")
    if growth > TARGETS["overhead_growth"]:
        missed.append(f"create overhead growth {growth:.2f}")
    small, large = sorted(memory)
    memory_growth = memory[large] / memory[small]
    lines += ["", "## Peak memory of the app exporting a domain (VmHWM of a fresh process)", "",
              "| users | peak RSS |", "| --- | --- |",
              *(f"| {size} | {mib:.0f} MiB |" for size, mib in memory.items()),
              f"\n{large} / {small}: {memory_growth:.2f} (target at most "
              f"{TARGETS['memory_growth']})"]
    if memory_growth > TARGETS["memory_growth"]:
        missed.append(f"export memory growth {memory_growth:.2f}")
    per_second, p95, errors = load
    lines += ["", "## 16 clients, 4 workers, mixed reads and writes", "",
              f"{per_second:.1f} requests/s, p95 {_ms(p95)}, errors: {len(errors)} "
              f"(target 0)"]
    lines += [f"- {error}" for error in errors[:5]]
    if errors:
        missed.append(f"{len(errors)} errors under concurrency")
    creates_lines, creates_missed = creates
    lines += ["", *creates_lines]
    missed += creates_missed
    lines += ["", "## Targets missed" if missed else "## All targets met", ""]
    lines += [f"- {item}" for item in missed]
    return "\n".join(lines) + "\n", missed


# The metric families save_metrics prints (all are saved).
METRICS_SHOWN = ("iredapi_ldap_requests_total", "iredapi_ldap_errors_total",
                 "iredapi_ldap_ldap_operations_total", "iredapi_ldap_sql_operations_total",
                 "iredapi_ldap_request_duration_seconds_count")


def save_metrics(api, workdir):
    """The default client's `/metrics` after the run (summed over its 4 workers), saved in
    the work directory; the request, LDAP, SQL and error counters printed."""
    text = api.call("GET", "/metrics", accept="text/plain").decode()
    path = workdir / "metrics-after-bench.txt"
    path.write_text(text)
    print(f"metrics, all of them in {path}:", file=sys.stderr)
    for line in text.splitlines():
        if line.startswith(METRICS_SHOWN):
            print("  " + line, file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--only", choices=("creates",),
                        help="run only this phase against its own slapd and API and print "
                             "its table (bench/RESULTS.md is left as it is): creates, the "
                             "concurrent creates in one domain (bench/creates.py)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    from . import creates  # here: creates.py builds on this module's helpers
    if args.only == "creates":
        return creates.run_alone(plan)
    domains = {size: f"c{size}.bench" for size in plan["sizes"]}
    slapd, accounts, layout = production_slapd(domains, ldap_salted_sha512.hash(PASSWORD))
    workdir = Path(tempfile.mkdtemp(prefix="iredapi-bench-"))
    servers, configs, apis = [], {}, {}
    try:
        for client in CLIENTS:
            server, configs[client], port = start_api(slapd, accounts, workdir, client)
            servers.append(server)
            apis[client] = Api(port)
            apis[client].call("POST", "/api/login", {"username": accounts.admin_mail,
                                                     "password": accounts.admin_password})
        api, config = apis[DEFAULT_CLIENT], configs[DEFAULT_CLIENT]
        raws = [cls(slapd.ldap_uri, accounts.vmailadmin_dn, accounts.vmailadmin_password)
                for cls in (RawLdap3, RawPythonLdap)]
        main_domain = domains[plan["main"]]
        print("ops per request ...", file=sys.stderr)
        counts = ops_per_request(config, accounts, main_domain)
        print("throughput ...", file=sys.stderr)
        rows = throughput_table(apis, raws, layout, accounts, main_domain, plan["main"],
                                plan["seconds"])
        reader = RawLdap3(slapd.ldap_uri, accounts.vmailadmin_dn, accounts.vmailadmin_password)
        constant, constant_port = start_gunicorn(workdir, "--workers", "4",
                                                 "bench.constant_app:app")
        servers.append(constant)
        floor = http_floor(api.port, constant_port, RawLdap3(
            slapd.ldap_uri, accounts.vmailadmin_dn, accounts.vmailadmin_password), reader,
            layout, accounts, main_domain, plan["seconds"])
        print("create latency ...", file=sys.stderr)
        # Against python-ldap, the library the API itself uses: the difference is then the
        # API's own cost (HTTP, checks, its other LDAP operations), not ldap3's encoding.
        latency = create_latency(api, raws[1], raws[0], layout, domains, plan["pairs"])
        print("export memory ...", file=sys.stderr)
        memory = export_memory(config, {s: domains[s] for s in plan["sizes"][1:]}, accounts)
        creates_section = creates.measure(api, config, slapd, accounts, layout,
                                          plan["creates"], single_ops=counts[2])  # the create row
        print("concurrency ...", file=sys.stderr)
        load = concurrency(api.port, api.cookie, main_domain, plan["concurrency"])
        save_metrics(api, workdir)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=60)
        slapd.stop()
    text, missed = report(rows, counts, floor, latency, memory, load, creates_section,
                          args.quick,
                          "make bench" if not args.quick else "python -m bench.run --quick")
    RESULTS.write_text(text)
    print(text)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
