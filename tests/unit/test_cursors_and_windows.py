"""Listing cursors (signed, bound to their listing), `limit`, and the sorted-window controls
(the same bytes python-ldap's own control classes encode)."""

import pytest
from ldap.controls.sss import SSSRequestControl
from ldap.controls.vlv import VLVRequestControl

from iredapi_ldap.cursors import CursorCodec, Position
from iredapi_ldap.directory import Entry, Window, windows
from iredapi_ldap.errors import ApiError
from iredapi_ldap.http.paging import MAX_LIMIT, parse_limit

KEY = "a-secret-key-of-some-length"


def test_a_cursor_reads_back_only_for_its_listing():
    codec = CursorCodec(KEY)
    token = codec.issue("users", "example.com", "bob@example.com", 50)
    assert codec.read(token, "users", "example.com") == Position("bob@example.com", 50)
    assert CursorCodec(KEY).read(token, "users", "example.com").limit == 50  # any process
    for listing, scope in (("aliases", "example.com"), ("users", "example.org"),
                           ("domains", "")):
        with pytest.raises(ApiError) as refused:
            codec.read(token, listing, scope)
        assert refused.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize("token", ["", "x", "[1]", "e30.e30"])
def test_tampered_or_foreign_cursors_are_refused(token):
    codec = CursorCodec(KEY)
    good = codec.issue("users", "example.com", "bob@example.com", 50)
    for bad in (token, good[:-2] + ("xx" if not good.endswith("xx") else "yy"),
                CursorCodec("another-key-entirely").issue("users", "example.com", "b", 5)):
        with pytest.raises(ApiError) as refused:
            codec.read(bad, "users", "example.com")
        assert refused.value.code == "INVALID_CURSOR" and refused.value.status == 400


def test_cursors_are_not_session_tokens():
    from iredapi_ldap.sessions import SessionCodec
    session = SessionCodec(KEY, 60).issue("cn=x", ["{SSHA}y"])
    with pytest.raises(ApiError):
        CursorCodec(KEY).read(session, "users", "example.com")


@pytest.mark.parametrize("text", ["0", "-1", "1001", "", "1.5", "+5", " 5", "٣", "1e3"])
def test_limit_is_a_whole_number_within_bounds(text):
    with pytest.raises(ApiError) as refused:
        parse_limit(text)
    assert refused.value.code == "INVALID_PARAMETER"


def test_limit_bounds_pass():
    assert (parse_limit("1"), parse_limit(str(MAX_LIMIT))) == (1, MAX_LIMIT)


def test_controls_encode_as_python_ldap_does():
    assert windows.sort_control_value("mail") == SSSRequestControl(
        ordering_rules=["mail:caseIgnoreOrderingMatch"]).encodeControlValue()
    cases = [((0, 11), {"offset": 1}, dict(offset=1, content_count=0)),
             ((0, 1001), {"value": "bob@x.test"}, dict(greater_than_or_equal="bob@x.test")),
             ((0, 200), {"value": "b" * 300}, dict(greater_than_or_equal="b" * 300))]
    for (before, after), mine, theirs in cases:
        assert windows.vlv_control_value(before, after, **mine) == VLVRequestControl(
            before_count=before, after_count=after, **theirs).encodeControlValue()


def test_cut_keeps_the_window_after_its_start():
    entries = [Entry(f"mail={m},o=x", {"mail": [m]}) for m in ("Bob@x", "al@x", "carl@x")]
    entries.append(Entry("cn=keyless,o=x", {"cn": ["k"]}))
    result = windows.cut(entries, Window("mail", "AL@x", 1))
    assert [e.first("mail") for e in result.entries] == ["Bob@x"]
    assert (result.more, result.last) == (True, "bob@x")
    assert windows.cut(entries, Window("mail", "carl@x", 5)).entries == []
