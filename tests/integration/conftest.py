"""Fixtures for the policy-store tests: every test runs against SQLite, MariaDB and
PostgreSQL."""

import secrets

import pytest

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
    """Fresh, empty databases for one test: {'amavisd': url, 'iredapd': url, ...}."""
    if request.param == "sqlite":
        yield {name: f"sqlite:///{tmp_path / name}.sqlite" for name in DATABASES}
        return
    if request.param == "postgresql":
        server = request.getfixturevalue("postgresql")
        yield {name: server.url(db) for name, db in
               zip(DATABASES, server.empty_databases([f"test_{n}" for n in DATABASES]),
                   strict=True)}
        return
    server = request.getfixturevalue("mariadb")
    prefix = f"t{secrets.token_hex(4)}"
    names = {name: f"{prefix}_{name}" for name in DATABASES}
    server.root_sql("".join(f"CREATE DATABASE {db} CHARACTER SET utf8mb4;"
                            for db in names.values()))
    yield {name: server.url(db) for name, db in names.items()}
    server.root_sql("".join(f"DROP DATABASE IF EXISTS {db};" for db in names.values()))


@pytest.fixture
def store(policy_urls):
    policy_store = SqlPolicyStore(policy_urls)
    policy_store.create_missing_tables()
    return policy_store


@pytest.fixture
def policy_client(make_client, store):
    return make_client(policy=store)
