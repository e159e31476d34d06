"""Authorization primitives: global-only actions and domain scope."""

import pytest

from iredapi_ldap import errors
from iredapi_ldap.services.access import managed_domains, require_domain, require_global_admin
from iredapi_ldap.services.auth import Caller

from .. import helpers

GLOBAL = Caller("root@admins.example.net", "mail=root@admins.example.net,o=x", True)
NORMAL = Caller("helper@admins.example.net", "mail=helper@admins.example.net,o=x", False)


def test_require_global_admin():
    require_global_admin(GLOBAL)
    with pytest.raises(errors.PermissionDenied) as caught:
        require_global_admin(NORMAL)
    assert caught.value.code == "PERMISSION_DENIED" and caught.value.status == 403


def test_global_admin_scope(repo, domain):
    assert require_domain(repo, GLOBAL, domain).first("domainName") == domain
    with pytest.raises(errors.NotFound) as caught:
        require_domain(repo, GLOBAL, "absent-domain.test")
    assert caught.value.code == "NO_SUCH_DOMAIN" and caught.value.status == 404
    assert {domain, "example.com"} <= set(managed_domains(repo, GLOBAL))


def test_normal_admin_scope(repo, directory, layout, domain):
    with pytest.raises(errors.PermissionDenied):
        require_domain(repo, NORMAL, domain)
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", NORMAL.mail)])
    entry = require_domain(repo, NORMAL, domain, ["mtaTransport"])
    assert entry.first("mtaTransport") == "dovecot"
    assert managed_domains(repo, NORMAL) == [domain]
    # A missing domain looks the same as a foreign one: scope does not reveal existence.
    with pytest.raises(errors.PermissionDenied):
        require_domain(repo, NORMAL, "absent-domain.test")


def test_hostile_admin_address_matches_nothing(repo, directory, layout, domain):
    sneaky = Caller("*", "mail=*,o=x", False)
    directory.modify(layout.domain_dn(domain), [helpers.add_values("domainAdmin", "x@y.test")])
    assert managed_domains(repo, sneaky) == []
    with pytest.raises(errors.PermissionDenied):
        require_domain(repo, sneaky, domain)
