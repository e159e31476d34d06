import pytest

from iredapi_ldap.errors import BadRequest
from iredapi_ldap.model.spampolicy import SPAM_POLICY, decode_spam_policy, encode_spam_policy
from iredapi_ldap.policy.accounts import account_type, amavisd_lookup_keys, priority


def test_amavisd_lookup_keys():
    assert amavisd_lookup_keys("alice@mail.example.com") == [
        "alice@mail.example.com", "@mail.example.com", "@.mail.example.com", "@.example.com",
        "@.com", "@."]


@pytest.mark.parametrize("key, kind, prio", [
    ("@.", "catchall", 0), ("@example.com", "domain", 60), ("@.example.com", "subdomain", 50),
    ("@.com", "top_level_domain", 40), ("a@example.com", "email", 100),
    ("192.0.2.1", "ip", 80), ("2001:db8::1", "ip", 80), ("192.0.2.0/24", "cidr", 70),
    ("2001:db8::/32", "cidr", 70),
])
def test_account_types_and_iredapd_priorities(key, kind, prio):
    assert account_type(key) == kind and priority(key) == prio


@pytest.mark.parametrize("key", ["", "@", "@-x.com", "a@", "192.0.2.300", "x", "@.c0m!", "*"])
def test_invalid_keys(key):
    assert account_type(key) is None


def test_every_parameter_round_trips_through_columns():
    for name in SPAM_POLICY:
        for value in (("4.5", "-2", "") if name == "spam_score" else ("yes", "no", "")):
            row = encode_spam_policy({name: value})
            decoded = decode_spam_policy(row)[name]
            expected = None if value == "" else value
            if name == "spam_score" and value:
                expected = float(value) if "." in value else int(value)
            assert decoded == expected, (name, value)


def test_values_are_refused_with_the_parameter_named():
    with pytest.raises(BadRequest, match="quarantine_virus"):
        encode_spam_policy({"quarantine_virus": "sometimes"})
    with pytest.raises(BadRequest, match="spam_score"):
        encode_spam_policy({"spam_score": "inf"})


def test_no_row_means_everything_inherited():
    assert set(decode_spam_policy(None).values()) == {None}
