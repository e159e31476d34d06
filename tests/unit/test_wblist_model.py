"""The addresses a white/blacklist takes (model/wblist.py), and the priorities they get in
Amavisd's tables (policy/accounts.py)."""

import pytest

from iredapi_ldap.model.wblist import parse_addresses, sender_address
from iredapi_ldap.policy.accounts import amavisd_priority


@pytest.mark.parametrize("given, stored", [
    ("192.168.2.10", "192.168.2.10"),
    ("192.168.2.0/24", "192.168.2.0/24"),
    ("2620:0:2d0:200::7/128", "2620:0:2d0:200::7/128"),
    ("2620:0000:02d0:0200:0000:0000:0000:0007", "2620:0:2d0:200::7"),  # as Postfix gives it
    ("2001:DB8::/32", "2001:db8::/32"),
    ("User@Domain.LTD", "user@domain.ltd"),
    ("o'brien+tag@example.com", "o'brien+tag@example.com"),
    ("@domain.ltd", "@domain.ltd"),
    ("@.domain.ltd", "@.domain.ltd"),
    ("@.", "@."),
    ("  @example.org ", "@example.org"),
    ("@.\n", "@."),  # an item's surrounding space is not part of it; nothing else is trimmed
])
def test_the_documented_forms_are_kept_in_canonical_form(given, stored):
    assert sender_address(given) == stored


@pytest.mark.parametrize("given", [
    "", "@", "@.com", "@com", "user@", "user@localhost", "@-x.com", "user@*",
    "192.168.*.*", "192.168.2.300", "192.168.2.5/24", "192.168.2.0/33", "01.2.3.4",
    "fe80::1%eth0", "example.com", "us er@example.com", "a@b@example.com",
    "user@exämple.com", "x" * 250 + "@example.com", "'; DROP TABLE mailaddr; --",
    "user@example.com\x00", "@.\x00",
])
def test_anything_else_is_discarded(given):
    assert sender_address(given) is None


def test_parse_keeps_order_drops_repeats_and_names_the_discarded_as_given():
    kept, discarded = parse_addresses(
        "b@example.com, A@Example.com,,a@example.com,bad, 192.0.2.1 ,@.,bad,192.0.2.9/24")
    assert kept == ["b@example.com", "a@example.com", "192.0.2.1", "@."]
    assert discarded == ["bad", "192.0.2.9/24"]
    assert parse_addresses("") == ([], []) and parse_addresses(" , ") == ([], [])


@pytest.mark.parametrize("key, priority", [
    ("user@example.com", 10), ("192.0.2.1", 9), ("2001:db8::1", 9), ("192.0.2.0/24", 7),
    ("192.0.2.1/32", 7), ("2001:db8::/32", 7), ("@example.com", 5), ("@.example.com", 3),
    ("@.com", 2), ("@.", 0),
])
def test_amavisd_priorities_are_iredadmins(key, priority):
    """MAILADDR_PRIORITIES of iRedAdmin and iRedAPD (libs/utils.py), which write users and
    mailaddr rows: ours must rank among theirs."""
    assert amavisd_priority(key) == priority
