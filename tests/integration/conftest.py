"""Fixtures for the policy-store tests: every test runs against SQLite and MariaDB."""

import secrets

import pytest

from iredapi_ldap.policy.store import SqlPolicyStore
from iredapi_ldap.policy.tables import DATABASES

from .. import helpers
from ..mariadb import MariaDB


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    server = MariaDB(tmp_path_factory.mktemp("mariadb"), helpers.free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "mariadb"])
def policy_urls(request, tmp_path):
    """Fresh, empty databases for one test: {'amavisd': url, 'iredapd': url, ...}."""
    if request.param == "sqlite":
        yield {name: f"sqlite:///{tmp_path / name}.sqlite" for name in DATABASES}
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
