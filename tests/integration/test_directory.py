"""Both directory adapters against slapd: operations, error translation, outages and failover."""

import pytest

from iredapi_ldap import errors
from iredapi_ldap.directory import ADAPTERS, Change, Op, Scope, still_holding

from .. import helpers
from ..helpers import login, reply


@pytest.fixture(scope="module")
def own_slapd():
    """A slapd of this module's own, so stopping it disturbs no other test."""
    with helpers.running_slapd() as server:
        yield server


def test_counter_increment_with_assertion(directory, layout, domain):
    dn = layout.domain_dn(domain)
    directory.modify(dn, [Change("domainCurrentUserNumber", Op.REPLACE, ("5",))])
    directory.modify(dn, [Change("domainCurrentUserNumber", Op.INCREMENT, ("1",))],
                     assertion="(domainCurrentUserNumber=5)")
    assert directory.get(dn, ["domainCurrentUserNumber"]).first("domainCurrentUserNumber") == "6"
    with pytest.raises(errors.ConcurrentUpdate):  # someone else moved it on
        directory.modify(dn, [Change("domainCurrentUserNumber", Op.INCREMENT, ("1",))],
                         assertion="(domainCurrentUserNumber=5)")
    assert directory.get(dn, ["domainCurrentUserNumber"]).first("domainCurrentUserNumber") == "6"


def test_increment_returns_the_value_it_made(directory, layout, domain):
    """RFC 4525 increment with RFC 4527 post-read: the count this very modify produced,
    and, with an assertion that fails, nothing changed."""
    dn = layout.domain_dn(domain)
    directory.modify(dn, [Change("domainCurrentUserNumber", Op.REPLACE, ("7",)),
                          helpers.replace("domainCurrentQuotaSize", "100")])
    after = directory.modify_read(
        dn, [Change("domainCurrentUserNumber", Op.INCREMENT, ("3",))],
        ["domainCurrentUserNumber", "domainCurrentQuotaSize", "entryCSN"])
    assert after.first("domainCurrentUserNumber") == "10"
    assert after.first("domainCurrentQuotaSize") == "100"
    assert after.first("entryCSN")  # which write, on which server (issue 18's hold)
    after = directory.modify_read(
        dn, [Change("domainCurrentUserNumber", Op.INCREMENT, ("-4",)),
             helpers.replace("domainCurrentQuotaSize", "50")],
        ["domainCurrentUserNumber"], assertion="(domainCurrentQuotaSize=100)")
    assert after.first("domainCurrentUserNumber") == "6"
    with pytest.raises(errors.ConcurrentUpdate):
        directory.modify_read(dn, [Change("domainCurrentUserNumber", Op.INCREMENT, ("1",))],
                              ["domainCurrentUserNumber"], assertion="(domainCurrentQuotaSize=100)")
    entry = directory.get(dn, ["domainCurrentUserNumber", "domainCurrentQuotaSize"])
    assert (entry.first("domainCurrentUserNumber"), entry.first("domainCurrentQuotaSize")) \
        == ("6", "50")


def test_delete_then_add_value_fails_when_value_moved(directory, layout, domain):
    dn = layout.domain_dn(domain)
    directory.modify(dn, [helpers.replace("domainCurrentQuotaSize", "100")])
    swap = [Change("domainCurrentQuotaSize", Op.DELETE, ("99",)),
            Change("domainCurrentQuotaSize", Op.ADD, ("200",))]
    with pytest.raises(errors.ConcurrentUpdate):
        directory.modify(dn, swap)
    assert directory.get(dn).first("domainCurrentQuotaSize") == "100"


def test_delete_with_assertion_and_delete_of_a_parent(directory, layout, domain):
    mail = f"held@{domain}"
    helpers.add_mail_user(directory, layout, mail, homeDirectory=["/var/vmail/held"],
                           mailQuota=["1024"])
    dn = layout.user_dn(mail)
    read = directory.get(dn, ["homeDirectory", "mailQuota"])
    directory.modify(dn, [helpers.replace("homeDirectory", "/var/vmail/elsewhere")])
    with pytest.raises(errors.ConcurrentUpdate):  # moved since it was read: not deleted
        directory.delete(dn, assertion=still_holding(read, ("homeDirectory", "mailQuota")))
    assert directory.get(dn) is not None
    directory.delete(dn, assertion=still_holding(directory.get(dn), ("homeDirectory",)))
    assert directory.get(dn) is None
    with pytest.raises(errors.EntryHasChildren):  # its containers are still below it
        directory.delete(layout.domain_dn(domain))


def test_add_existing_and_missing_entries(directory, layout, domain):
    with pytest.raises(errors.EntryExists):
        helpers.add_domain(directory, layout, domain)
    assert directory.get(layout.user_dn(f"none@{domain}")) is None
    with pytest.raises(errors.EntryNotFound):
        directory.modify(layout.user_dn(f"none@{domain}"), [helpers.replace("cn", "x")])
    with pytest.raises(errors.EntryNotFound):
        list(directory.search(layout.container_dn("absent.test", "Users"), "(objectClass=*)"))


def test_hostile_values_in_dns_and_filters(directory, layout, domain):
    mail = f"a,b+c=d\\e*(x)@{domain}"  # not a valid address, but the DN must still be safe
    directory.add(layout.user_dn(mail), {
        "objectClass": ["inetOrgPerson", "mailUser"], "mail": [mail], "uid": ["x"],
        "cn": ["x"], "sn": ["x"]})
    assert directory.get(layout.user_dn(mail)).first("mail") == mail
    from iredapi_ldap.directory import escape_filter_value
    found = list(directory.search(layout.domain_dn(domain),
                                  f"(mail={escape_filter_value(mail)})", Scope.SUB, ["mail"]))
    assert [e.first("mail") for e in found] == [mail]
    assert list(directory.search(layout.domain_dn(domain),
                                 f"(mail={escape_filter_value('*')})", Scope.SUB)) == []


def test_rename_and_subtree_delete(directory, layout, domain):
    old = helpers.add_mail_user(directory, layout, f"old@{domain}")
    new = directory.rename(old, f"mail=new@{domain}")
    assert new == layout.user_dn(f"new@{domain}")
    assert directory.get(old) is None and directory.get(new) is not None
    directory.delete(layout.domain_dn(domain), subtree=True)
    assert directory.get(layout.domain_dn(domain)) is None
    directory.delete(layout.domain_dn(domain), subtree=True)  # idempotent
    helpers.add_domain(directory, layout, domain)  # for the fixture's own cleanup


def test_paged_search_streams_across_pages(directory, layout, domain):
    for i in range(25):
        helpers.add_mail_user(directory, layout, f"u{i:02d}@{domain}",
                              stored_password="{SSHA}x")
    found = directory.search(layout.container_dn(domain, "Users"), "(objectClass=mailUser)",
                             Scope.ONE, ["mail"], page_size=10)
    assert sorted(e.first("mail") for e in found) == [f"u{i:02d}@{domain}" for i in range(25)]


def test_failover_to_the_next_uri(own_slapd, adapter):
    acc = own_slapd.accounts
    dead = f"ldap://127.0.0.1:{helpers.free_port()}"
    directory = adapter((dead, own_slapd.ldap_uri), acc.vmailadmin_dn,
                        acc.vmailadmin_password, connect_timeout=2, timeout=10)
    assert directory.get(acc.domains_dn) is not None


def test_wrong_bind_password_is_unavailable_not_a_crash(own_slapd, adapter):
    acc = own_slapd.accounts
    directory = adapter((own_slapd.ldap_uri,), acc.vmailadmin_dn, "wrong")
    with pytest.raises(errors.DirectoryUnavailable):
        directory.get(acc.domains_dn)


def test_directory_down_then_back(own_slapd, make_client, adapter):
    acc = own_slapd.accounts
    client = make_client(
        directory=adapter((own_slapd.ldap_uri,), acc.vmailadmin_dn,
                          acc.vmailadmin_password, connect_timeout=2, timeout=10),
        ldap_basedn=acc.domains_dn, ldap_admin_basedn=acc.admins_dn)
    assert reply(login(client, acc.admin_mail, acc.admin_password)) == (200, True, None)
    own_slapd.terminate()
    own_slapd.wait()
    try:
        result = login(client, acc.admin_mail, acc.admin_password)
        assert reply(result) == (503, False, "DIRECTORY_UNAVAILABLE")
        assert "Traceback" not in result.text
    finally:
        own_slapd.resume()
    assert reply(login(client, acc.admin_mail, acc.admin_password)) == (200, True, None)


def test_restart_while_idle_is_transparent_for_reads(own_slapd, adapter):
    acc = own_slapd.accounts
    directory = adapter((own_slapd.ldap_uri,), acc.vmailadmin_dn,
                        acc.vmailadmin_password, connect_timeout=2, timeout=10)
    assert directory.get(acc.domains_dn) is not None
    own_slapd.restart()  # the kept connection is now dead; the read reconnects and retries
    assert directory.get(acc.domains_dn) is not None


def test_every_adapter_reads_an_entry_alike(base_settings, directory, layout, domain):
    photo = b"\xff\xd8\xff\xe0 not UTF-8"
    dn = helpers.add_mail_user(directory, layout, f"same@{domain}", cn=["Jörg Ünal"],
                               jpegPhoto=[photo], mailQuota=[1024])
    readings = {name: cls(base_settings.ldap_uri, base_settings.ldap_bind_dn,
                          base_settings.ldap_bind_password).get(dn)
                for name, cls in ADAPTERS.items()}
    for entry in readings.values():
        assert entry.first("cn") == "Jörg Ünal" and entry.first("jpegPhoto") == photo
        assert entry.first("mailQuota") == "1024"
    first, *others = readings.values()
    assert all(entry.dn == first.dn and entry.attrs == first.attrs for entry in others)


def test_a_write_after_a_restart_goes_out_on_a_new_connection(own_slapd, adapter):
    """slapd restarted while the connection was idle: the write is sent on a new
    connection, instead of failing on the dead one (the write never reached slapd)."""
    acc = own_slapd.accounts
    directory = adapter((own_slapd.ldap_uri,), acc.vmailadmin_dn,
                        acc.vmailadmin_password, connect_timeout=2, timeout=10)
    dn = f"domainName=example.com,{acc.domains_dn}"
    assert directory.get(dn) is not None
    for round_ in range(3):
        own_slapd.restart()
        directory.modify(dn, [helpers.replace("cn", f"after restart {round_}")])
        assert directory.get(dn, ["cn"]).first("cn") == f"after restart {round_}"
