"""Fixtures shared by the whole suite.

Integration tests run against a real slapd (python-ldap's slapdtest, via
`iredapi_ldap.devslapd.IRedMailSlapd`): iRedMail's schema, indexes, limits and ACLs, with the
API bound as `cn=vmailadmin`. A missing slapd is an error, never a skip.
"""

import secrets

import pytest
from falcon import testing

from iredapi_ldap.app import create_app
from iredapi_ldap.config import load_settings
from iredapi_ldap.directory import ADAPTERS, from_settings
from iredapi_ldap.layout import Layout
from iredapi_ldap.services.repository import Repository

from . import helpers


@pytest.fixture(scope="session")
def slapd():
    with helpers.running_slapd() as server:
        yield server


@pytest.fixture(scope="session")
def providers():
    """Two throwaway providers replicating each other (multi-provider, syncprov and
    syncrepl), the first seeded: a `tests.replication.Topology`."""
    from iredapi_ldap.devslapd.replication import replicating_providers

    from .replication import Topology
    with replicating_providers(2) as (servers, accounts):
        yield Topology(servers, accounts)


@pytest.fixture(scope="session")
def accounts(slapd):
    return slapd.accounts


@pytest.fixture(scope="session", params=sorted(ADAPTERS))
def ldap_client(request):
    """Each LDAP client library the directory can run on (LDAP_CLIENT): every test that
    touches the directory runs once with each."""
    return request.param


@pytest.fixture(scope="session")
def base_settings(slapd, ldap_client, tmp_path_factory):
    acc = slapd.accounts
    return load_settings(
        environ={}, enable_restful_api=True, ldap_uri=(slapd.ldap_uri,),
        ldap_basedn=acc.domains_dn, ldap_admin_basedn=acc.admins_dn,
        ldap_bind_dn=acc.vmailadmin_dn, ldap_bind_password=acc.vmailadmin_password,
        ldap_connect_timeout=2, ldap_timeout=10, ldap_client=ldap_client,
        # Failed logins are counted in the session's shared database: the tests of the
        # limit set their own, with client addresses of their own.
        login_max_failures=1000,
        data_dir=str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def directory(base_settings):
    return from_settings(base_settings)


@pytest.fixture(scope="session")
def adapter(ldap_client):
    """The directory adapter class under test, for tests that build their own."""
    return ADAPTERS[ldap_client]


@pytest.fixture(scope="session")
def layout(base_settings):
    return Layout.from_settings(base_settings)


@pytest.fixture(scope="session")
def repo(directory, layout):
    """The directory and the layout, as the services take them."""
    return Repository(directory, layout)


@pytest.fixture
def make_client(base_settings, directory):
    """A TestClient over a fresh app; keyword arguments change settings."""
    def make(directory=directory, clock=None, policy=None, **changes):
        settings = base_settings.replace(**changes) if changes else base_settings
        kwargs = {"clock": clock} if clock else {}
        return testing.TestClient(create_app(settings, directory, policy, **kwargs))
    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def domain_admin(directory, layout, domain):
    """A standalone normal admin (`mailAdmin`) that manages `domain`; its address."""
    mail = f"adm-{secrets.token_hex(4)}@admins.example.net"
    helpers.add_admin(directory, layout, mail)
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", mail)])
    yield mail
    directory.delete(layout.admin_dn(mail))


@pytest.fixture
def domain(directory, layout):
    """A fresh domain `t-<random>.test` with its four containers, removed afterwards."""
    name = f"t-{secrets.token_hex(4)}.test"
    helpers.add_domain(directory, layout, name)
    yield name
    directory.delete(layout.domain_dn(name), subtree=True)


@pytest.fixture(scope="session")
def mailstack(slapd):
    from .mailstack import MailStack
    return MailStack(slapd)


@pytest.fixture
def admin_cookies(client, accounts):
    """A session of the seeded global admin."""
    return helpers.session_cookie(helpers.login(client, accounts.admin_mail,
                                                accounts.admin_password))
