"""The two-provider test topology replicates both ways, promptly, and the server ID in an
entry's entryCSN names the provider that accepted the write."""

import hashlib
import secrets
import socket
import time
import types
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from iredapi_ldap.layout import Layout

from .. import helpers, servers
from ..replication import REPLICATION_BOUND_SECONDS, writer_of


def topology_layout(topology):
    return Layout(topology.accounts.domains_dn, topology.accounts.admins_dn)


def test_providers_have_distinct_server_ids(providers):
    ids = [provider.server_id for provider in providers.providers]
    assert len(set(ids)) == len(ids) and 0 not in ids


def test_a_write_on_either_provider_reaches_the_other_within_the_bound(providers):
    layout = topology_layout(providers)
    lags = []
    for writer, reader in (providers.providers, reversed(providers.providers)):
        name = f"r-{secrets.token_hex(4)}.test"
        helpers.add_domain(providers.directory(writer), layout, name)
        dn = layout.domain_dn(name)
        csn = providers.entry_csn(writer, dn)
        assert writer_of(csn) == writer.server_id
        lags.append(providers.wait_for(reader, dn, csn))
        assert providers.entry_csn(reader, dn) == csn  # the same entry, not a copy of it
        providers.directory(writer).delete(dn, subtree=True)
    assert max(lags) < REPLICATION_BOUND_SECONDS


def verify_config(topology, tmp_path, ldap_client, uris=None):
    acc = topology.accounts
    uris = uris or topology.uris
    path = tmp_path / "repl.yaml"
    path.write_text(
        "LDAP_URI:\n" + "".join(f"  - '{uri}'\n" for uri in uris)
        + f"LDAP_BASEDN: '{acc.domains_dn}'\nLDAP_ADMIN_BASEDN: '{acc.admins_dn}'\n"
        f"LDAP_BIND_DN: '{acc.vmailadmin_dn}'\nLDAP_BIND_PASSWORD: '{acc.vmailadmin_password}'\n"
        f"LDAP_CLIENT: '{ldap_client}'\n")
    return str(path)


def test_repl_verify_reports_a_converged_pair_clean(providers, tmp_path, ldap_client):
    layout = topology_layout(providers)
    name = f"r-{secrets.token_hex(4)}.test"
    helpers.add_domain(providers.directory(providers.providers[0]), layout, name)
    try:
        run = helpers.run_cli("repl-verify", "--config",
                              verify_config(providers, tmp_path, ldap_client))
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().endswith("compared 2 servers: no differences")
        assert run.stderr == ""
    finally:
        providers.directory(providers.providers[0]).delete(layout.domain_dn(name),
                                                           subtree=True)


def test_repl_verify_finds_an_entry_that_never_replicated(providers, tmp_path, ldap_client):
    """An entry loaded into B's database while B was down (as a crash between commit and
    replication leaves one): the contextCSNs agree, and only the entries tell."""
    first, second = providers.providers
    dn = f"cn=planted-{secrets.token_hex(4)},{providers.accounts.domains_dn}"
    second.terminate()
    second.wait()
    try:
        second.slapadd(f"dn: {dn}\nobjectClass: organizationalRole\ncn: {dn[3:].split(',')[0]}\n",
                       ["-b", second.suffix])
    finally:
        second.resume()
    try:
        run = helpers.run_cli("repl-verify", "--config",
                              verify_config(providers, tmp_path, ldap_client),
                              "--recheck", "0.5")
        assert run.returncode == 1, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0].startswith(f"missing on {first.ldap_uri}: {dn} (entryCSN ")
        assert lines[-1] == "compared 2 servers: 1 difference(s)"
        assert providers.entry_csn(first, dn) is None  # still: replication did not mend it
    finally:
        providers.directory(second).delete(dn)


def test_repl_verify_needs_two_servers(providers, tmp_path, ldap_client):
    run = helpers.run_cli("repl-verify", "--config",
                          verify_config(providers, tmp_path, ldap_client,
                                        uris=providers.uris[:1]))
    assert run.returncode == 2
    assert run.stderr.strip() == ("iredapi-ldap: configuration error: LDAP_URI lists one "
                                  "server: there is nothing to compare it with")


# -- one write leader ------------------------------------------------------------------------

LIMIT = 10


@pytest.fixture
def hosts(providers, base_settings, adapter, make_client):
    """Two apps standing for two API hosts, each with LDAP_URI listing both providers in the
    same order (each its own directory adapter, so its own choice of leader), and a session
    of the seeded global admin valid on both (they share SECRET_KEY)."""
    acc = providers.accounts
    apps = [make_client(directory=adapter(providers.uris, acc.vmailadmin_dn,
                                          acc.vmailadmin_password, connect_timeout=2,
                                          timeout=10, bind_timeout=2),
                        ldap_uri=providers.uris, ldap_basedn=acc.domains_dn,
                        ldap_admin_basedn=acc.admins_dn)
            for _ in range(2)]
    cookies = helpers.session_cookie(helpers.login(apps[0], acc.admin_mail, acc.admin_password))
    return apps, cookies


@pytest.fixture
def limited_domain(providers):
    layout = topology_layout(providers)
    leader = providers.directory(providers.providers[0])
    name = f"r-{secrets.token_hex(4)}.test"
    helpers.add_domain(leader, layout, name, accountSetting=[
        "minPasswordLength:8", "defaultQuota:1024", f"numberOfUsers:{LIMIT}"])
    yield name
    leader.delete(layout.domain_dn(name), subtree=True)


def create_user(app, cookies, mail):
    return helpers.form(app, "POST", f"/api/user/{mail}",
                        {"password": "Repl-Passw0rd!", "name": "r"}, cookies=cookies)


def test_both_hosts_write_through_the_first_provider(providers, hosts, limited_domain):
    apps, cookies = hosts
    layout = topology_layout(providers)
    first = providers.providers[0]
    mails = [f"w{i}@{limited_domain}" for i in range(4)]
    for i, mail in enumerate(mails):
        assert helpers.reply(create_user(apps[i % 2], cookies, mail)) == (200, True, None)
        assert writer_of(providers.entry_csn(first, layout.user_dn(mail))) == first.server_id
    counter_csn = providers.entry_csn(first, layout.domain_dn(limited_domain))
    assert writer_of(counter_csn) == first.server_id  # the counter too


def test_racing_creates_on_two_hosts_hold_the_domain_limit(providers, hosts, limited_domain):
    apps, cookies = hosts
    layout = topology_layout(providers)
    mails = [f"race{i}@{limited_domain}" for i in range(2 * LIMIT)]
    with ThreadPoolExecutor(max_workers=len(mails)) as pool:
        results = list(pool.map(lambda i: helpers.reply(create_user(apps[i % 2], cookies,
                                                                    mails[i])),
                                range(len(mails))))
    assert Counter(results)[(200, True, None)] == LIMIT, Counter(results)
    domain_dn = layout.domain_dn(limited_domain)
    csn = providers.entry_csn(providers.providers[0], domain_dn)
    for provider in providers.providers:
        providers.wait_for(provider, domain_dn, csn)
        directory = providers.directory(provider)
        users = list(directory.search(layout.container_dn(limited_domain, "Users"),
                                      "(objectClass=mailUser)", attributes=["1.1"]))
        assert len(users) == LIMIT, provider.ldap_uri
        assert directory.get(domain_dn).first("domainCurrentUserNumber") == str(LIMIT)


def test_a_create_on_one_host_is_read_at_once_on_the_other(providers, hosts):
    apps, cookies = hosts
    layout = topology_layout(providers)
    leader = providers.directory(providers.providers[0])
    name = f"r-{secrets.token_hex(4)}.test"
    helpers.add_domain(leader, layout, name)
    misses = 0
    try:
        for round_ in range(50):
            mail = f"seen{round_}@{name}"
            writer, reader = apps[round_ % 2], apps[1 - round_ % 2]
            assert helpers.reply(create_user(writer, cookies, mail)) == (200, True, None)
            found = reader.simulate_get(f"/api/user/{mail}", cookies=cookies)
            misses += found.status_code != 200
    finally:
        leader.delete(layout.domain_dn(name), subtree=True)
    assert misses == 0


def test_when_one_thread_finds_the_leader_down_every_thread_leaves_it(providers, adapter):
    """Two threads hold connections to the first provider; it goes down and one thread
    moves to the second. When the first is back, the other thread (whose connection died
    with it) writes to the second too, not to the first it would reconnect to on its own."""
    first, second = providers.providers
    acc = providers.accounts
    layout = topology_layout(providers)
    directory = adapter(providers.uris, acc.vmailadmin_dn, acc.vmailadmin_password,
                        connect_timeout=2, timeout=10, bind_timeout=2)
    name = f"r-{secrets.token_hex(4)}.test"
    with ThreadPoolExecutor(max_workers=1) as other_thread:  # one thread, kept throughout
        assert directory.get(acc.domains_dn) is not None
        assert other_thread.submit(directory.get, acc.domains_dn).result() is not None
        assert directory.leader == first.ldap_uri
        first.terminate()
        first.wait()
        try:
            assert directory.get(acc.domains_dn) is not None  # this thread fails over
            assert directory.leader == second.ldap_uri
        finally:
            first.resume()
        other_thread.submit(helpers.add_domain, directory, layout, name).result()
    try:
        csn = providers.entry_csn(second, layout.domain_dn(name))
        assert writer_of(csn) == second.server_id
        providers.wait_for(first, layout.domain_dn(name), csn, timeout=10)  # A caught up
    finally:
        directory.delete(layout.domain_dn(name), subtree=True)


def test_a_server_that_never_answers_is_left_after_the_bind_timeout(providers, adapter):
    """A server that accepts connections but never answers (hung, SIGSTOPped) costs the
    bind timeout, not LDAP_TIMEOUT."""
    first = providers.providers[0]
    acc = providers.accounts
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)  # the kernel accepts connections; nothing ever answers
        hung_uri = f"ldap://127.0.0.1:{hung.getsockname()[1]}"
        directory = adapter((hung_uri, first.ldap_uri), acc.vmailadmin_dn,
                            acc.vmailadmin_password, connect_timeout=2, timeout=30,
                            bind_timeout=1)
        start = time.monotonic()
        assert directory.get(acc.domains_dn) is not None
        elapsed = time.monotonic() - start
    assert directory.leader == first.ldap_uri
    assert 1 <= elapsed < 5


# -- health ----------------------------------------------------------------------------------

def health_data(app, cookies):
    result = app.simulate_get("/api/health", cookies=cookies)
    return result.status_code, result.json.get("_data")


def converged(providers):
    """Wait until every provider holds the first one's contextCSNs."""
    directories = [providers.directory(p) for p in providers.providers]
    deadline = time.monotonic() + REPLICATION_BOUND_SECONDS
    while True:
        csns = [sorted(d.get(providers.accounts.suffix, ["contextCSN"]).get("contextCSN"))
                for d in directories]
        if all(c == csns[0] for c in csns):
            return csns[0]
        assert time.monotonic() < deadline, csns
        time.sleep(0.01)


def public(provider):
    return provider.ldap_uri.rstrip("/")


def test_health_names_the_leader_each_contextcsn_and_lag(providers, hosts, base_settings):
    apps, cookies = hosts
    first, second = providers.providers
    csns = converged(providers)
    status, data = health_data(apps[0], cookies)
    assert status == 200
    assert data["leader"] == public(first)
    servers = {item["uri"]: item for item in data["ldap"]}
    assert servers[public(first)] | {"latency_ms": 0} == {
        "uri": public(first), "up": True, "latency_ms": 0, "leader": True,
        "context_csn": csns, "lag_ms": 0.0}
    assert servers[public(second)]["leader"] is False
    assert servers[public(second)]["context_csn"] == csns
    assert servers[public(second)]["lag_ms"] == 0.0
    assert {writer_of(csn) for csn in csns} >= {first.server_id}
    key = base_settings.secret_key or (
        open(f"{base_settings.data_dir}/secret_key").read().strip())
    assert data["key_id"] == hashlib.sha256(key.encode()).hexdigest()[:8]
    assert key not in str(data)


def test_health_shows_a_provider_down_and_hosts_that_disagree_on_the_key(
        providers, hosts, make_client, adapter):
    apps, cookies = hosts
    first, second = providers.providers
    second.terminate()
    second.wait()
    try:
        status, data = health_data(apps[1], cookies)
    finally:
        second.resume()
    assert status == 200  # the leader takes the writes: the host is healthy
    servers = {item["uri"]: item for item in data["ldap"]}
    assert data["leader"] == public(first)
    assert servers[public(second)]["up"] is False
    assert servers[public(second)]["lag_ms"] is None
    assert servers[public(first)]["lag_ms"] == 0.0
    acc = providers.accounts
    other = make_client(directory=adapter(providers.uris, acc.vmailadmin_dn,
                                          acc.vmailadmin_password),
                        ldap_uri=providers.uris, ldap_basedn=acc.domains_dn,
                        ldap_admin_basedn=acc.admins_dn, secret_key="another-key-" + "x" * 32)
    other_cookies = helpers.session_cookie(helpers.login(other, acc.admin_mail,
                                                         acc.admin_password))
    time.sleep(1.1)  # past the reuse of the first app's last report
    assert health_data(other, other_cookies)[1]["key_id"] != health_data(apps[0],
                                                                         cookies)[1]["key_id"]


def test_serve_over_several_providers_warns_of_a_generated_key_and_sqlite(providers, tmp_path,
                                                                          ldap_client):
    """A real `serve` with both providers in LDAP_URI, no SECRET_KEY and SQLite policy
    databases: it says at start what several hosts would need, and runs."""
    shim = types.SimpleNamespace(ldap_uri=providers.uris[0], accounts=providers.accounts)
    with servers.serving(shim, tmp_path, workers=2, LDAP_URI=list(providers.uris),
                         LDAP_CLIENT=ldap_client) as base:
        cookie = servers.login(base, providers.accounts.admin_mail,
                               providers.accounts.admin_password)
        status, body = servers.call(base, "GET", "/api/health", cookie=cookie)
    assert status == 200 and body["_data"]["leader"] == public(providers.providers[0])
    log = (tmp_path / "serve.log").read_text()
    assert "iredapi-ldap: warning: LDAP_URI lists 2 servers but SECRET_KEY is not set" in log
    assert ("iredapi-ldap: warning: LDAP_URI lists 2 servers but AMAVISD_DB_URL, "
            "IREDAPD_DB_URL, IREDADMIN_DB_URL are SQLite files") in log


def test_a_worker_fails_back_once_the_first_provider_has_caught_up(providers, adapter):
    """Failover to the second provider, writes there, the first comes back: within the
    fail-back interval (after it holds those writes) new writes land on the first again."""
    first, second = providers.providers
    acc = providers.accounts
    layout = topology_layout(providers)
    directory = adapter(providers.uris, acc.vmailadmin_dn, acc.vmailadmin_password,
                        connect_timeout=2, timeout=10, bind_timeout=2, failback_interval=0.5)
    names = [f"r-{secrets.token_hex(4)}.test" for _ in range(2)]
    assert directory.get(acc.domains_dn) is not None
    first.terminate()
    first.wait()
    try:
        helpers.add_domain(directory, layout, names[0])  # on the second
        assert directory.leader == second.ldap_uri
    finally:
        first.resume()
    back = time.monotonic()
    while directory.leader != first.ldap_uri:
        directory.get(acc.domains_dn)  # requests start the checks
        assert time.monotonic() - back < 10, "no fail-back within 10 s"
        time.sleep(0.05)
    print(f"\nfail-back: first write on the first provider again {time.monotonic() - back:.2f} s "
          f"after it came back (interval 0.5 s)")
    try:
        assert providers.entry_csn(first, layout.domain_dn(names[0])) is not None  # caught up
        helpers.add_domain(directory, layout, names[1])
        assert writer_of(providers.entry_csn(first, layout.domain_dn(names[1]))) == \
            first.server_id
    finally:
        for name in names:
            directory.delete(layout.domain_dn(name), subtree=True)
