"""The adapters satisfy the contracts the services are written against: checked at run time
here, and statically by mypy (`make test` runs it over this file too)."""

import re
from pathlib import Path

import iredapi_ldap.services
from iredapi_ldap.directory import Directory
from iredapi_ldap.directory.ldap3_backend import Ldap3Directory
from iredapi_ldap.directory.pyldap_backend import PythonLdapDirectory
from iredapi_ldap.policy.base import PolicyStore
from iredapi_ldap.policy.store import SqlPolicyStore


def as_policy_store(store: SqlPolicyStore) -> PolicyStore:
    return store  # mypy: every method of PolicyStore, with compatible signatures


def as_directory(ldap3: Ldap3Directory, pyldap: PythonLdapDirectory) -> tuple[Directory, ...]:
    return ldap3, pyldap  # mypy: the same for Directory


def test_sql_store_is_a_policy_store(tmp_path):
    urls = {name: f"sqlite:///{tmp_path}/{name}.db"
            for name in ("amavisd", "iredapd", "iredadmin")}
    store = SqlPolicyStore(urls)
    try:
        assert isinstance(as_policy_store(store), PolicyStore)
    finally:
        for engine in store.databases.engines.values():
            engine.dispose()


def test_policy_store_declares_what_services_call():
    called = set()
    for path in (Path(iredapi_ldap.services.__file__).parent).glob("*.py"):
        called |= set(re.findall(r"\b_?store\.(\w+)\(", path.read_text()))
    declared = {name for name in vars(PolicyStore)
                if not name.startswith("_") and callable(getattr(PolicyStore, name))}
    assert called and declared == called
