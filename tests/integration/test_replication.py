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
