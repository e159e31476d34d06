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
