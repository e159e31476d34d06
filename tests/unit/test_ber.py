"""The post-read entry decoder (directory/ber.py) against python-ldap's own (pyasn1)."""

import pytest
from ldap.controls.readentry import PostReadControl

from iredapi_ldap.directory.ber import search_result_entry


def tlv(tag, body):
    """One BER element with a definite length, in the short or the long form."""
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = (len(body).bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + len(body).to_bytes(size, "big") + body


def encoded(dn, attributes):
    listed = b"".join(
        tlv(0x30, tlv(0x04, name.encode()) + tlv(0x31, b"".join(tlv(0x04, v) for v in values)))
        for name, values in attributes.items())
    return tlv(0x64, tlv(0x04, dn.encode()) + tlv(0x30, listed))


ENTRIES = [
    ("domainName=a.test,o=domains,dc=x", {
        "domainCurrentUserNumber": [b"123"], "entryUUID": [b"1b2c3d4e-1111-2222-3333-4444"],
        "accountSetting": [b"defaultQuota:1024", b"numberOfUsers:10"],
        "domainCurrentQuotaSize": [b"132070244352"]}),
    ("domainName=\u00e9t\u00e9.test,o=domains,dc=x", {}),          # no attribute, UTF-8 DN
    ("cn=x", {"description": []}),                                 # an empty set of values
    ("cn=long", {"description": [b"v" * 200, b"w" * 70000]}),     # long forms, 1 and 3 bytes
]


@pytest.mark.parametrize("dn,attributes", ENTRIES)
def test_decodes_as_python_ldap_does(dn, attributes):
    data = encoded(dn, attributes)
    theirs = PostReadControl(True, None)
    theirs.decodeControlValue(data)
    assert search_result_entry(data) == (dn, attributes)
    assert theirs.entry == attributes
    if dn.isascii():  # python-ldap gives a DN's UTF-8 bytes as Latin-1 characters
        assert theirs.dn == dn


@pytest.mark.parametrize("data", [
    b"",
    b"\x64",
    encoded("cn=x", {"a": [b"1"]})[:-1],                      # cut short
    encoded("cn=x", {"a": [b"1"]}) + b"\x00",                 # something after it
    b"\x30" + encoded("cn=x", {})[1:],                          # not a SearchResultEntry
    b"\x64\x80" + encoded("cn=x", {})[2:] + b"\x00\x00",       # indefinite length
    b"\x64\x85\x00\x00\x00\x00\x05",                            # a 5-byte length
    tlv(0x64, tlv(0x04, b"cn=x") + tlv(0x30, tlv(0x30, tlv(0x04, b"a") + tlv(0x31, b"")
                                                  + b"\x04\x00"))),  # a stray value
    tlv(0x64, tlv(0x04, b"cn=x")
        + tlv(0x30, tlv(0x30, tlv(0x04, b"a") + tlv(0x31, b"\x02\x01\x00")))),  # an INTEGER
    tlv(0x64, tlv(0x04, b"\xff") + tlv(0x30, b"")),            # a DN that is not UTF-8
    tlv(0x64, tlv(0x04, b"cn=x") + tlv(0x30, b"") + b"\x04\x00"),  # after the attributes
    None,                                                       # a control without value
])
def test_refuses_what_is_not_one_well_formed_entry(data):
    with pytest.raises((ValueError, UnicodeDecodeError)):
        search_result_entry(data)
