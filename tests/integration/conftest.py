"""Fixtures for the policy-store tests: every test runs against SQLite, MariaDB and
PostgreSQL."""

import contextlib
import secrets

import pytest

from iredapi_ldap import errors
from iredapi_ldap.policy.store import SqlPolicyStore
from iredapi_ldap.policy.tables import DATABASES

from .. import helpers
from ..mariadb import MariaDB
from ..postgresql import PostgreSQL

# The LDAP client library each database is tested with. The two meet only in the services,
# through the directory contract and the policy-store contract: which library talks to
# slapd changes nothing of what reaches SQL, and which database holds the rows nothing of
# what reaches slapd. So a test that runs on every database and every client runs each
# database once and each client at least once, not every pair: half the runs, each
# database and each client still under every such test.
CLIENT_OF_DATABASE = {"sqlite": "ldap3", "mariadb": "python-ldap", "postgresql": "ldap3"}


def pytest_collection_modifyitems(config, items):
    """Leave out the runs of a database with the other LDAP client (CLIENT_OF_DATABASE)."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        database = params.get("policy_urls")
        if database in CLIENT_OF_DATABASE and "ldap_client" in params \
                and params["ldap_client"] != CLIENT_OF_DATABASE[database]:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    server = MariaDB(tmp_path_factory.mktemp("mariadb"), helpers.free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgresql():
    server = PostgreSQL(helpers.free_port())
    server.start()
    yield server
    server.remove()


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def policy_urls(request, tmp_path):
    """Fresh databases for one test: {'amavisd': url, 'iredapd': url, ...}. MariaDB's hold
    the tables exactly as iRedMail's installer creates them on a real server (upstream
    SQL, its users and grants); SQLite and PostgreSQL start empty, for the store to
    create its tables."""
    if request.param == "sqlite":
        yield {name: f"sqlite:///{tmp_path / name}.sqlite" for name in DATABASES}
        return
    server = request.getfixturevalue(request.param)
    if request.param == "mariadb":
        yield server.pristine_iredmail_databases("test",
                                                 helpers.reference_dir() / "upstream-sql")
        return
    with server.empty_databases("test") as urls:
        yield urls


@pytest.fixture
def store(policy_urls):
    policy_store = SqlPolicyStore(policy_urls)
    policy_store.create_missing_tables()
    return policy_store


@pytest.fixture
def policy_client(make_client, store):
    return make_client(policy=store)


@pytest.fixture
def accounts_made(directory):
    """Removes the entries a test created outside its domain."""
    made = []
    yield made
    for dn in made:
        with contextlib.suppress(errors.EntryNotFound):
            directory.delete(dn)


@pytest.fixture
def standalone(directory, layout, accounts_made):
    def make(global_admin=True, **attrs):
        mail = f"adm-{secrets.token_hex(4)}@admins.example.net"
        if global_admin:
            attrs.setdefault("domainGlobalAdmin", ["yes"])
        accounts_made.append(helpers.add_admin(directory, layout, mail, **attrs))
        return mail
    return make
