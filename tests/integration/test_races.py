"""Racing requests against a real server (4 gunicorn workers): limits hold exactly, one
rename or delete of an account wins and owns everything, and a busy database is never
reported as an outage.

Each test prints what it counted (`pytest -s`): the closing note of the isolation issue
pastes those figures.
"""

import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from .. import helpers, servers
from ..servers import call, outcome

RACERS = 20
LIMIT = 5


def race(calls):
    """Run each call() in its own thread at once; returns their (status, success, code)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [outcome(result) for result in pool.map(lambda c: c(), calls)]


@pytest.fixture(scope="module")
def server(slapd, ldap_client, tmp_path_factory):
    """One server for the limit tests of each LDAP client: each races with an admin and
    domains of its own, so a server that served others changes nothing (and starting and
    stopping 4 workers costs about 4 s)."""
    with servers.serving(slapd, tmp_path_factory.mktemp("races"),
                         LDAP_CLIENT=ldap_client) as base:
        yield base


@pytest.fixture
def policy_server(slapd, ldap_client, tmp_path, store, policy_urls):
    """A server on the policy databases of `store` (SQLite, MariaDB, PostgreSQL)."""
    with servers.serving(slapd, tmp_path, LDAP_CLIENT=ldap_client,
                         **{f"{name.upper()}_DB_URL": url
                            for name, url in policy_urls.items()}) as base:
        yield base


@pytest.fixture
def limited_admin(directory, layout):
    """A normal admin managing two fresh domains; returns (mail, [domains])."""
    mail = f"racer-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, mail)
    domains = [f"t-{secrets.token_hex(4)}.test" for _ in range(2)]
    for name in domains:
        helpers.add_domain(directory, layout, name, domainAdmin=[mail])
    yield mail, domains
    for name in domains:
        directory.delete(layout.domain_dn(name), subtree=True)
    directory.delete(layout.admin_dn(mail))


def _count(directory, layout, domains, container, object_class):
    return sum(len(list(directory.search(layout.container_dn(d, container),
                                         f"(objectClass={object_class})", attributes=["1.1"])))
               for d in domains)


@pytest.mark.parametrize("kind, setting, container, object_class", [
    ("user", "create_max_users", "Users", "mailUser"),
    ("alias", "create_max_aliases", "Aliases", "mailAlias"),
    ("maillist", "create_max_lists", "Groups", "mailList"),
    ("user", "create_max_quota", "Users", "mailUser"),
])
def test_a_normal_admins_own_limits_hold_exactly(server, directory, layout, limited_admin,
                                                 kind, setting, container, object_class):
    mail, domains = limited_admin
    settings = [f"{setting}:{LIMIT * 10 if setting.endswith('quota') else LIMIT}"]
    if setting.endswith("quota"):
        settings.append("create_quota_unit:MB")
    directory.modify(layout.admin_dn(mail), [helpers.replace("accountSetting", *settings)])
    cookie = servers.login(server, mail)
    data = {"password": "Ra-ce-Passw0rd!", "quota": "10"} if kind == "user" else {}
    results = race([lambda i=i: call(server, "POST", f"/api/{kind}/r{i}@{domains[i % 2]}",
                                     data, cookie) for i in range(RACERS)])
    created = _count(directory, layout, domains, container, object_class)
    print(f"\n{kind} {setting}={LIMIT}: {RACERS} racers -> {created} created, "
          f"replies {dict(Counter(results))}")
    assert created == LIMIT
    assert Counter(results) == {(200, True, None): LIMIT,
                                (422, False, "EXCEEDED_LIMIT"): RACERS - LIMIT}
    held = sum(int(directory.get(layout.domain_dn(d)).first(
        {"user": "domainCurrentUserNumber", "alias": "domainCurrentAliasNumber",
         "maillist": "domainCurrentListNumber"}[kind], 0)) for d in domains)
    assert held == LIMIT


def test_a_normal_admins_domain_limit_holds_exactly(server, directory, layout):
    mail = f"creator-{secrets.token_hex(3)}@admins.example.net"
    helpers.add_admin(directory, layout, mail,
                      accountSetting=["create_new_domains:yes", f"create_max_domains:{LIMIT}"])
    names = [f"t-race-{secrets.token_hex(3)}-{i}.test" for i in range(RACERS)]
    try:
        cookie = servers.login(server, mail)
        results = race([lambda name=name: call(server, "POST", f"/api/domain/{name}",
                                               {"name": "x"}, cookie) for name in names])
        made = [n for n in names if directory.get(layout.domain_dn(n)) is not None]
        print(f"\ndomains create_max_domains={LIMIT}: {RACERS} racers -> {len(made)} "
              f"created, replies {dict(Counter(results))}")
        assert len(made) == LIMIT
        assert Counter(results)[(200, True, None)] == LIMIT
        for name in made:  # every one whole: the containers came with the entry
            assert len(list(directory.search(layout.domain_dn(name), "(objectClass=*)",
                                             attributes=["1.1"]))) == 5
    finally:
        for name in names:
            directory.delete(layout.domain_dn(name), subtree=True)
        directory.delete(layout.admin_dn(mail))


TABLES = {"amavisd": (("users", "email"), ("policy", "policy_name")),
          "iredapd": (("throttle", "account"), ("greylisting", "account"),
                      ("greylisting_whitelists", "account"))}


def policy_rows(urls, addresses):
    """{address: number of its policy rows in all tables}."""
    found = dict.fromkeys(addresses, 0)
    for database, tables in TABLES.items():
        engine = create_engine(urls[database])
        with engine.connect() as conn:
            for table, column in tables:
                for address, count in conn.execute(text(
                        f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}")):
                    address = address.decode() if isinstance(address, bytes) else address
                    if address in found:
                        found[address] += count
        engine.dispose()
    return found


def give_policies(base, cookie, mail):
    for method, path, data in (
            ("PUT", f"/api/spampolicy/user/{mail}", {"bypass_spam_checks": "yes"}),
            ("POST", f"/api/throttle/{mail}/inbound", {"period": "60", "max_msgs": "5"}),
            ("POST", f"/api/greylisting/{mail}", {"status": "disable"}),
            ("POST", f"/api/greylisting/{mail}/whitelists", {"senders": "192.0.2.1"})):
        assert outcome(call(base, method, path, data, cookie))[1], path


def test_one_of_many_renames_wins_and_owns_all_rows(policy_server, policy_urls, directory,
                                                     layout, domain, accounts):
    cookie = servers.login(policy_server, accounts.admin_mail, accounts.admin_password)
    mail = f"moving@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    alias = f"points@{domain}"
    assert outcome(call(policy_server, "POST", f"/api/alias/{alias}", {"members": mail},
                        cookie))[1]
    give_policies(policy_server, cookie, mail)
    before = policy_rows(policy_urls, [mail])[mail]
    targets = [f"to-{i}@{domain}" for i in range(RACERS)]
    results = race([lambda t=t: call(policy_server, "POST",
                                     f"/api/user/{mail}/change_email/{t}", {}, cookie)
                    for t in targets])
    winners = [t for t, r in zip(targets, results, strict=True) if r[1]]
    rows = policy_rows(policy_urls, [mail, *targets])
    print(f"\nchange_email x{RACERS}: replies {dict(Counter(results))}; rows of the winner "
          f"{rows[winners[0]] if winners else None} of {before}, rows elsewhere "
          f"{sum(v for k, v in rows.items() if k not in winners)}")
    assert len(winners) == 1 and (503, False, "DATABASE_UNAVAILABLE") not in results
    assert Counter(results) == {(200, True, None): 1,
                                (404, False, "NO_SUCH_ACCOUNT"): RACERS - 1}
    winner = winners[0]
    assert rows[winner] == before and sum(rows.values()) == before
    entry = directory.get(layout.user_dn(winner))
    assert entry.first("uid") == winner.split("@")[0]
    members = directory.get(f"mail={alias},{layout.container_dn(domain, 'Aliases')}")
    assert members.get("mailForwardingAddress") == [winner]


def test_one_of_many_deletes_wins_and_records_one_mailbox(policy_server, store, policy_urls,
                                                          directory, layout, domain,
                                                          accounts):
    cookie = servers.login(policy_server, accounts.admin_mail, accounts.admin_password)
    mail = f"leaving@{domain}"
    helpers.add_mail_user(directory, layout, mail)
    alias = f"to-leaving@{domain}"
    assert outcome(call(policy_server, "POST", f"/api/alias/{alias}",
                        {"members": f"{mail},x@y.test"}, cookie))[1]
    give_policies(policy_server, cookie, mail)
    results = race([lambda: call(policy_server, "DELETE",
                                 f"/api/user/{mail}/keep_mailbox_days/3", None, cookie)
                    for _ in range(RACERS)])
    recorded = [r for r in store.deleted_mailboxes() if r["username"] == mail]
    print(f"\nDELETE x{RACERS}: replies {dict(Counter(results))}; deleted_mailboxes rows "
          f"{len(recorded)}")
    assert Counter(results) == {(200, True, None): 1,
                                (404, False, "NO_SUCH_ACCOUNT"): RACERS - 1}
    assert len(recorded) == 1 and recorded[0]["delete_date"] is not None
    assert recorded[0]["admin"] == accounts.admin_mail
    assert policy_rows(policy_urls, [mail])[mail] == 0
    members = directory.get(f"mail={alias},{layout.container_dn(domain, 'Aliases')}")
    assert members.get("mailForwardingAddress") == ["x@y.test"]
    assert int(directory.get(layout.domain_dn(domain)).first("domainCurrentUserNumber",
                                                             "0")) == 0
