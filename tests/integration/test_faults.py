"""Faults under load: slapd and MariaDB are killed (SIGKILL) and restarted while 8 clients
drive a real server (4 gunicorn workers). Every acknowledged write must be there, nothing
may be half-done, and `doctor` must be clean once `doctor --fix` has finished what the
outages cut short.

Each client runs chains of writes on accounts of its own: create a user, give it a spam
policy and a throttle, make an alias of it, rename it, delete it (kept 7 days), delete the
alias. A chain stops at its first failed request, whose outcome is unknown, so the chain
must end in the state after its last acknowledged write or after the failed one, each
state whole (the test counts, and prints, what it found: `pytest -s`).

The MariaDB databases hold the tables exactly as iRedMail's installer creates them
(shared/reference/upstream-sql, with its grants).
"""

import datetime
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from .. import helpers, servers
from ..mariadb import MariaDB
from ..servers import call, outcome

CLIENTS = 8
DOMAIN = "faults.test"
KEEP_DAYS = 7
SCHEDULE = ((2.0, "slapd"), (8.0, "mariadb"))  # when each is killed; back 2 s later
DOWN_FOR = 2.0
LOAD_SECONDS = 14.0


@pytest.fixture
def durable_mariadb(tmp_path):
    """A MariaDB of this test's own that, like a production server, acknowledges a commit
    only once it is on disk (the suite's shared one trades that for speed)."""
    server = MariaDB(tmp_path / "mariadb", helpers.free_port(), durable=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def world(tmp_path, durable_mariadb):
    """(slapd, MariaDB, {'amavisd': url, ...}, base URL, config file) of a private slapd,
    iRedMail's MariaDB databases and `serve` on them."""
    sql = helpers.reference_dir() / "upstream-sql"
    with helpers.running_slapd() as slapd, \
            durable_mariadb.iredmail_databases("faults", sql) as urls:
        settings = {"LDAP_CLIENT": "python-ldap", "LOGIN_MAX_FAILURES": 1000, "LDAP_TIMEOUT": 3,
                    **{f"{name.upper()}_DB_URL": url for name, url in urls.items()}}
        with servers.serving(slapd, tmp_path, workers=4, **settings) as base:
            yield slapd, durable_mariadb, urls, base, tmp_path / "serve.yaml"


class Chain:
    """One client's chain of writes on its own accounts, and what was acknowledged."""

    def __init__(self, client, number):
        tag = f"{client}-{number}"
        self.user, self.renamed, self.alias = (f"u{tag}@{DOMAIN}", f"r{tag}@{DOMAIN}",
                                               f"al{tag}@{DOMAIN}")
        self.steps = [
            ("POST", f"/api/user/{self.user}", {"password": "Fau1t-Passw0rd!", "quota": "10"}),
            ("PUT", f"/api/spampolicy/user/{self.user}", {"bypass_spam_checks": "yes"}),
            ("POST", f"/api/throttle/{self.user}/outbound", {"period": "60", "max_msgs": "5"}),
            ("POST", f"/api/alias/{self.alias}", {"members": self.user}),
            ("POST", f"/api/user/{self.user}/change_email/{self.renamed}", {}),
            ("DELETE", f"/api/user/{self.renamed}/keep_mailbox_days/{KEEP_DAYS}", None),
            ("DELETE", f"/api/alias/{self.alias}", None),
        ]
        self.acknowledged = 0   # how many steps, from the first, answered 200
        self.failed = None      # the reply of the step that was not

    def run(self, base, cookie, replies):
        for method, path, data in self.steps:
            reply = outcome(call(base, method, path, data, cookie, timeout=30))
            replies[reply] += 1
            if reply[:2] != (200, True):
                self.failed = reply
                return
            self.acknowledged += 1


def _load(base, cookie, stop):
    chains, replies = [], Counter()

    def client(number):
        count = 0
        while not stop.is_set():
            chain = Chain(number, count)
            chains.append(chain)
            chain.run(base, cookie, replies)
            count += 1
            if chain.failed:
                stop.wait(0.2)  # the server is likely down: do not pile up chains
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    return chains, replies


def _faults(slapd, mariadb, started):
    for at, victim in SCHEDULE:
        time.sleep(max(0.0, started + at - time.monotonic()))
        if victim == "slapd":
            slapd._proc.kill()
            slapd.wait()
            time.sleep(DOWN_FOR)
            slapd.resume()
        else:
            mariadb.kill()
            time.sleep(DOWN_FOR)
            mariadb.start_again()


class Observer:
    """What the directory and the tables hold of a chain's accounts."""

    def __init__(self, directory, layout, urls):
        self._directory, self._layout = directory, layout
        self._engines = {name: create_engine(url) for name, url in urls.items()}

    def _count(self, database, sql, **values):
        with self._engines[database].connect() as conn:
            return conn.execute(text(sql), values).scalar()

    def policy_rows(self, address):
        return (self._count("amavisd", "SELECT COUNT(*) FROM users WHERE email = :a", a=address)
                + self._count("amavisd", "SELECT COUNT(*) FROM policy WHERE policy_name = :a",
                              a=address)
                + self._count("iredapd", "SELECT COUNT(*) FROM throttle WHERE account = :a",
                              a=address))

    def mailbox_rows(self, address, kept):
        """deleted_mailboxes rows of `address`: (all of them, those with the right date)."""
        due = datetime.date.today() + datetime.timedelta(days=KEEP_DAYS)
        with self._engines["iredadmin"].connect() as conn:
            rows = conn.execute(text("SELECT delete_date FROM deleted_mailboxes "
                                     "WHERE username = :a"), {"a": address}).all()
        return len(rows), sum(1 for (date,) in rows if date in (due, due - datetime.timedelta(1)))

    def state(self, chain):
        user = self._directory.get(self._layout.user_dn(chain.user), ["1.1"]) is not None
        renamed = self._directory.get(self._layout.user_dn(chain.renamed), ["1.1"]) is not None
        alias = self._directory.get(
            f"mail={chain.alias},{self._layout.container_dn(DOMAIN, 'Aliases')}",
            ["mailForwardingAddress"])
        rows, dated = self.mailbox_rows(chain.renamed, KEEP_DAYS)
        return {"user": user, "renamed": renamed,
                "policies": (self.policy_rows(chain.user), self.policy_rows(chain.renamed)),
                "alias": None if alias is None else sorted(alias.get("mailForwardingAddress")),
                "kept": (rows, dated), "user rows": self.mailbox_rows(chain.user, 0)[0]}

    def close(self):
        for engine in self._engines.values():
            engine.dispose()


def whole_states(chain):
    """The state of the chain's accounts after each number of steps (0 to 7)."""
    nothing = {"user": False, "renamed": False, "policies": (0, 0), "alias": None,
               "kept": (0, 0), "user rows": 0}
    states = [nothing]
    for change in ({"user": True}, {"policies": (2, 0)}, {"policies": (3, 0)},
                   {"alias": [chain.user]},
                   {"user": False, "renamed": True, "policies": (0, 3),
                    "alias": [chain.renamed]},
                   {"renamed": False, "policies": (0, 0), "alias": [], "kept": (1, 1)},
                   {"alias": None}):
        states.append({**states[-1], **change})
    return states


def _cli(config, *args):
    return subprocess.run([sys.executable, "-m", "iredapi_ldap", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=600,
                          env=helpers.server_environment())


def test_kills_under_load_lose_nothing_and_leave_nothing_half_done(world):
    slapd, mariadb, urls, base, config = world
    acc = slapd.accounts
    cookie = servers.login(base, acc.admin_mail, acc.admin_password)
    assert outcome(call(base, "POST", f"/api/domain/{DOMAIN}", {"name": "Faults"}, cookie))[1]
    stop = threading.Event()
    started = time.monotonic()
    faults = threading.Thread(target=_faults, args=(slapd, mariadb, started))
    faults.start()
    timer = threading.Timer(LOAD_SECONDS, stop.set)
    timer.start()
    chains, replies = _load(base, cookie, stop)
    faults.join()
    timer.join()

    time.sleep(3.5)  # LDAP_TIMEOUT: no write whose answer was lost can land any more
    fixed = _cli(config, "doctor", "--fix", "--grace", "0")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    checked = _cli(config, "doctor")
    from iredapi_ldap.directory import PythonLdapDirectory
    from iredapi_ldap.layout import Layout
    directory = PythonLdapDirectory((slapd.ldap_uri,), acc.vmailadmin_dn,
                                    acc.vmailadmin_password)
    observer = Observer(directory, Layout(acc.domains_dn, acc.admins_dn), urls)
    verdicts = Counter()
    wrong = []
    try:
        for chain in chains:
            states = whole_states(chain)
            allowed = states[chain.acknowledged:chain.acknowledged + (2 if chain.failed else 1)]
            found = observer.state(chain)
            if found in allowed:
                verdicts["whole"] += 1
            else:
                verdicts["lost" if found in states[:chain.acknowledged] else "half-done"] += 1
                wrong.append((chain.user, chain.acknowledged, chain.failed, found))
        pending = observer._count("iredadmin", "SELECT COUNT(*) FROM deleted_mailboxes "
                                               "WHERE admin LIKE 'iredapi-ldap:%'")
        intents = observer._count("iredadmin", "SELECT COUNT(*) FROM tracking "
                                               "WHERE k LIKE 'iredapi-ldap:intent:%'")
    finally:
        observer.close()
    print(f"\nfaults: {sum(replies.values())} requests, {replies[(200, True, None)]} "
          f"acknowledged, others {dict((k, v) for k, v in replies.items() if k[0] != 200)}; "
          f"{len(chains)} chains: {dict(verdicts)}; doctor --fix: "
          f"{fixed.stdout.strip()}")
    for item in wrong:
        print("wrong:", item)
    assert wrong == []
    assert (pending, intents) == (0, 0)
    assert checked.returncode == 0, checked.stdout
    assert sum(1 for c in chains if c.failed) > 0  # the faults did cut chains short
