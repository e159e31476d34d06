"""Every scheme iRedMail writes or accepts (facts file, section 4) verifies; nothing else."""

import base64
import hashlib

import pytest
from passlib import hash as h

from iredapi_ldap import passwords

PW = "Sup3r-Secret!"


def _b64(data):
    return base64.b64encode(data).decode()


# The stored forms, built independently of the module under test where possible.
STORED = {
    "SSHA": h.ldap_salted_sha1.hash(PW),
    "SSHA512": h.ldap_salted_sha512.hash(PW),
    "SHA": "{SHA}" + _b64(hashlib.sha1(PW.encode()).digest()),
    "SHA512": "{SHA512}" + _b64(hashlib.sha512(PW.encode()).digest()),
    "CRYPT-SHA512": "{CRYPT}" + h.sha512_crypt.using(rounds=5000).hash(PW),
    "CRYPT-BCRYPT": "{CRYPT}" + h.bcrypt.using(ident="2b").hash(PW),
    "CRYPT-MD5": "{CRYPT}" + h.md5_crypt.hash(PW),
    "BLF-CRYPT": "{BLF-CRYPT}" + h.bcrypt.using(ident="2y").hash(PW),
    "SHA512-CRYPT": "{SHA512-CRYPT}" + h.sha512_crypt.using(rounds=5000).hash(PW),
    "MD5-CRYPT": "{MD5-CRYPT}" + h.md5_crypt.hash(PW),
    "PLAIN-MD5": "{PLAIN-MD5}" + hashlib.md5(PW.encode()).hexdigest(),
    "MD5": "{MD5}" + _b64(hashlib.md5(PW.encode()).digest()),
    "PLAIN": "{PLAIN}" + PW,
}


@pytest.mark.parametrize("scheme", sorted(STORED))
def test_each_scheme_verifies_right_and_refuses_wrong(scheme):
    stored = STORED[scheme]
    assert passwords.verify(PW, [stored])
    assert not passwords.verify(PW + "x", [stored])
    assert not passwords.verify("", [stored])


@pytest.mark.parametrize("scheme", sorted(set(STORED) - {"PLAIN"}))
def test_the_stored_hash_itself_is_no_password(scheme):
    assert not passwords.verify(STORED[scheme], [STORED[scheme]])


def test_scheme_prefix_ignores_case_and_bytes_are_accepted():
    assert passwords.verify(PW, [STORED["SSHA"].replace("{SSHA}", "{ssha}").encode()])


@pytest.mark.parametrize("stored", [PW, "{UNKNOWN}" + PW, "{SSHA}not-base64!", "{CRYPT}$9$x",
                                    "{SHA512}", ""])
def test_unknown_unprefixed_or_malformed_values_never_verify(stored):
    assert not passwords.verify(PW, [stored])


def test_any_of_several_values():
    assert passwords.verify(PW, ["{SSHA}bogus", STORED["SSHA512"]])
    assert not passwords.verify(PW, [])


@pytest.mark.parametrize("scheme, prefix", [("SSHA512", "{SSHA512}"), ("SSHA", "{SSHA}"),
                                            ("SHA512", "{SHA512}"),
                                            ("SHA512-CRYPT", "{CRYPT}$6$"),
                                            ("BCRYPT", "{CRYPT}$2b$")])
def test_new_hashes_use_slapd_schemes_and_verify(scheme, prefix):
    stored = passwords.hash_password(PW, scheme)
    assert stored.startswith(prefix)
    assert passwords.verify(PW, [stored])
    assert stored != passwords.hash_password(PW, scheme) or scheme == "SHA512"  # salted


def test_unsupported_scheme_for_new_hashes():
    with pytest.raises(ValueError):
        passwords.hash_password(PW, "PLAIN")


def test_bcrypt_reads_72_bytes_as_crypt_blowfish_does():
    long_password = "Pw-1" + "x" * 96
    stored = "{BLF-CRYPT}" + h.bcrypt.using(rounds=4).hash(long_password[:72])
    assert passwords.verify(long_password, [stored])  # doveadm wrote it from the first 72
    assert not passwords.verify(long_password[:71], [stored])
    assert passwords.max_length("BCRYPT") == 72 and passwords.max_length("SSHA512") == 256
