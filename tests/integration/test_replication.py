"""The two-provider test topology replicates both ways, promptly, and the server ID in an
entry's entryCSN names the provider that accepted the write."""

import secrets

from iredapi_ldap.layout import Layout

from .. import helpers
from ..replication import REPLICATION_BOUND_SECONDS, writer_of


def topology_layout(topology):
    return Layout(topology.accounts.domains_dn, topology.accounts.admins_dn)


def test_providers_have_distinct_server_ids(providers):
    ids = [provider.server_id for provider in providers.providers]
    assert len(set(ids)) == len(ids) and 0 not in ids


def test_a_write_on_either_provider_reaches_the_other_within_the_bound(providers):
    layout = topology_layout(providers)
    lags = []
    for writer, reader in (providers.providers, reversed(providers.providers)):
        name = f"r-{secrets.token_hex(4)}.test"
        helpers.add_domain(providers.directory(writer), layout, name)
        dn = layout.domain_dn(name)
        csn = providers.entry_csn(writer, dn)
        assert writer_of(csn) == writer.server_id
        lags.append(providers.wait_for(reader, dn, csn))
        assert providers.entry_csn(reader, dn) == csn  # the same entry, not a copy of it
        providers.directory(writer).delete(dn, subtree=True)
    assert max(lags) < REPLICATION_BOUND_SECONDS


def verify_config(topology, tmp_path, ldap_client, uris=None):
    acc = topology.accounts
    uris = uris or topology.uris
    path = tmp_path / "repl.yaml"
    path.write_text(
        "LDAP_URI:\n" + "".join(f"  - '{uri}'\n" for uri in uris)
        + f"LDAP_BASEDN: '{acc.domains_dn}'\nLDAP_ADMIN_BASEDN: '{acc.admins_dn}'\n"
        f"LDAP_BIND_DN: '{acc.vmailadmin_dn}'\nLDAP_BIND_PASSWORD: '{acc.vmailadmin_password}'\n"
        f"LDAP_CLIENT: '{ldap_client}'\n")
    return str(path)


def test_repl_verify_reports_a_converged_pair_clean(providers, tmp_path, ldap_client):
    layout = topology_layout(providers)
    name = f"r-{secrets.token_hex(4)}.test"
    helpers.add_domain(providers.directory(providers.providers[0]), layout, name)
    try:
        run = helpers.run_cli("repl-verify", "--config",
                              verify_config(providers, tmp_path, ldap_client))
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip().endswith("compared 2 servers: no differences")
        assert run.stderr == ""
    finally:
        providers.directory(providers.providers[0]).delete(layout.domain_dn(name),
                                                           subtree=True)


def test_repl_verify_finds_an_entry_that_never_replicated(providers, tmp_path, ldap_client):
    """An entry loaded into B's database while B was down (as a crash between commit and
    replication leaves one): the contextCSNs agree, and only the entries tell."""
    first, second = providers.providers
    dn = f"cn=planted-{secrets.token_hex(4)},{providers.accounts.domains_dn}"
    second.terminate()
    second.wait()
    try:
        second.slapadd(f"dn: {dn}\nobjectClass: organizationalRole\ncn: {dn[3:].split(',')[0]}\n",
                       ["-b", second.suffix])
    finally:
        second.resume()
    try:
        run = helpers.run_cli("repl-verify", "--config",
                              verify_config(providers, tmp_path, ldap_client),
                              "--recheck", "0.5")
        assert run.returncode == 1, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0].startswith(f"missing on {first.ldap_uri}: {dn} (entryCSN ")
        assert lines[-1] == "compared 2 servers: 1 difference(s)"
        assert providers.entry_csn(first, dn) is None  # still: replication did not mend it
    finally:
        providers.directory(second).delete(dn)


def test_repl_verify_needs_two_servers(providers, tmp_path, ldap_client):
    run = helpers.run_cli("repl-verify", "--config",
                          verify_config(providers, tmp_path, ldap_client,
                                        uris=providers.uris[:1]))
    assert run.returncode == 2
    assert run.stderr.strip() == ("iredapi-ldap: configuration error: LDAP_URI lists one "
                                  "server: there is nothing to compare it with")
