"""The throwaway slapd is what an iRedMail server runs: schema, ACLs, pw-sha2."""

import secrets

import ldap3
import pytest

from iredapi_ldap import errors
from iredapi_ldap.directory import Ldap3Directory, Scope

from .. import helpers


def bound(slapd, dn, password):
    return Ldap3Directory((slapd.ldap_uri,), dn, password, connect_timeout=2, timeout=10)


def test_every_iredmail_object_class_can_be_instantiated(directory, layout, domain):
    dom = layout.domain_dn(domain)
    entries = {
        f"mail=user@{domain},ou=Users,{dom}": {
            "objectClass": ["inetOrgPerson", "shadowAccount", "amavisAccount", "mailUser"],
            "mail": [f"user@{domain}"], "uid": ["user"], "cn": ["user"], "sn": ["user"],
            "mailQuota": ["1024"], "amavisLocal": ["TRUE"], "amavisSpamTagLevel": ["2.0"],
            "enabledService": ["mail"], "accountSetting": ["timezone:UTC"]},
        f"mail=alias@{domain},ou=Aliases,{dom}": {
            "objectClass": ["mailAlias"], "mail": [f"alias@{domain}"],
            "mailForwardingAddress": [f"user@{domain}"], "accessPolicy": ["public"],
            "listModerator": [f"user@{domain}"]},
        f"mail=list@{domain},ou=Groups,{dom}": {
            "objectClass": ["mailList"], "mail": [f"list@{domain}"], "accessPolicy": ["domain"],
            "mailingListID": [secrets.token_hex(8)], "listOwner": [f"user@{domain}"]},
        f"memberOfGroup=list@{domain},ou=Externals,{dom}": {
            "objectClass": ["mailExternalUser"], "memberOfGroup": [f"list@{domain}"],
            "mail": ["outside@example.org"]},
    }
    for dn, attrs in entries.items():
        directory.add(dn, attrs)
        assert directory.get(dn) is not None
    admin = f"admin-{secrets.token_hex(3)}@example.net"
    helpers.add_admin(directory, layout, admin, domainGlobalAdmin=["yes"],
                      accountSetting=["create_max_domains:2"])
    try:
        assert directory.get(layout.admin_dn(admin)).first("domainGlobalAdmin") == "yes"
    finally:
        directory.delete(layout.admin_dn(admin))


def test_schema_bounds_and_single_values_are_enforced(directory, layout, domain):
    dn = layout.domain_dn(domain)
    # NOTE: slapd does not enforce length bounds such as IA5{320}; the API validates lengths.
    with pytest.raises(errors.DirectoryRejected):  # domainCurrentUserNumber is an INTEGER
        directory.modify(dn, [helpers.replace("domainCurrentUserNumber", "many")])
    with pytest.raises(errors.ApiError):  # mtaTransport is SINGLE-VALUE
        directory.modify(dn, [helpers.add_values("mtaTransport", "smtp:x")])


def test_vmail_reads_but_cannot_write(slapd, accounts, layout):
    vmail = bound(slapd, accounts.vmail_dn, accounts.vmail_password)
    entry = vmail.get(layout.user_dn(accounts.admin_mail), ["mail"])
    assert entry.first("mail") == accounts.admin_mail
    with pytest.raises(errors.DirectoryError):
        vmail.modify(layout.domain_dn("example.com"), [helpers.replace("cn", "x")])


def test_anonymous_may_only_authenticate(slapd, accounts):
    conn = ldap3.Connection(ldap3.Server(slapd.ldap_uri.rstrip("/")), auto_bind=True)
    conn.search(accounts.domains_dn, "(objectClass=*)", ldap3.SUBTREE)
    assert conn.entries == []
    assert conn.result["description"] in ("noSuchObject", "success")
    conn.unbind()


def test_ssha512_password_binds_through_slapd(directory, layout, domain):
    mail = f"bind@{domain}"
    dn = helpers.add_mail_user(directory, layout, mail)  # {SSHA512}: needs pw-sha2
    assert directory.get(dn, ["userPassword"]).first("userPassword").startswith("{SSHA512}")
    assert directory.check_password(dn, helpers.PASSWORD)
    assert not directory.check_password(dn, helpers.PASSWORD + "x")


def test_api_account_is_not_the_rootdn(base_settings, slapd):
    assert base_settings.ldap_bind_dn.startswith("cn=vmailadmin,")
    assert base_settings.ldap_bind_dn != slapd.root_dn


def test_iredmail_indexes_are_configured(slapd):
    """mail, shadowAddress, memberOfGroup, domainAdmin ... are indexed as in iRedMail."""
    # slapd -Ttest accepted the configuration, so every indexed attribute is known to it.
    config = (slapd.testrundir + "/slapd.d/cn=config/olcDatabase={1}mdb.ldif")
    text = open(config).read().replace("\n ", "")  # unfold LDIF lines
    for index in ("olcDbIndex: ou,cn,mail,surname,givenname,telephoneNumber,displayName "
                  "eq,pres,sub",
                  "olcDbIndex: mailForwardingAddress,shadowAddress eq,pres,sub",
                  "olcDbIndex: backupMailAddress,memberOfGroup eq,pres,sub",
                  "olcDbIndex: domainAdmin,domainGlobalAdmin,domainBackupMX eq,pres,sub"):
        assert index in text
    assert "olcDbMaxSize: 2147483648" in text and "olcSizeLimit: unlimited" in text


def test_search_scopes(directory, layout, domain):
    below = {e.dn for e in directory.search(layout.domain_dn(domain), "(objectClass=*)",
                                              Scope.ONE, ["1.1"])}
    assert below == {layout.container_dn(domain, c) for c in helpers.CONTAINERS}
