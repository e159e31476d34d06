import pytest

from iredapi_ldap.errors import Unauthenticated
from iredapi_ldap.sessions import SessionCodec

DN = "mail=admin@example.com,o=domainAdmins,dc=example,dc=com"
HASH = ["{SSHA512}abc"]


class Clock:
    def __init__(self, now=1_000_000):
        self.now = now

    def __call__(self):
        return self.now


def test_round_trip_carries_dn_and_fingerprint():
    clock = Clock()
    codec = SessionCodec("k" * 32, 1800, clock)
    claims = codec.read(codec.issue(DN, HASH))
    assert claims.dn == DN
    assert claims.fingerprint == codec.fingerprint(HASH)
    assert claims.expires == clock.now + 1800


def test_expired_token_is_refused():
    clock = Clock()
    codec = SessionCodec("k" * 32, 60, clock)
    token = codec.issue(DN, HASH)
    clock.now += 59
    codec.read(token)
    clock.now += 1
    with pytest.raises(Unauthenticated, match="expired"):
        codec.read(token)


def test_tampered_and_foreign_tokens_are_refused():
    codec = SessionCodec("k" * 32, 60)
    token = codec.issue(DN, HASH)
    payload, signature = token.rsplit(".", 1)
    # Change the first character: the last one of a base64 signature may carry only
    # padding bits, so changing it can leave the decoded signature the same.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (payload + "." + flipped, "x" + token, token[:-3],
                SessionCodec("z" * 32, 60).issue(DN, HASH), "", None, "not-a-token"):
        with pytest.raises(Unauthenticated):
            codec.read(bad)


def test_fingerprint_follows_the_password_hash_and_the_key():
    codec = SessionCodec("k" * 32, 60)
    assert codec.fingerprint(HASH) != codec.fingerprint(["{SSHA512}abd"])
    assert codec.fingerprint(HASH) != SessionCodec("z" * 32, 60).fingerprint(HASH)
    assert "abc" not in codec.fingerprint(HASH)
