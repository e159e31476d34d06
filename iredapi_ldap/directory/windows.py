"""Sorted windows of search results (`Directory.search_window`), two ways:

- slapd sorts and cuts them: server-side sorting (RFC 2891) with a virtual list view
  (draft-ietf-ldapext-ldapv3-vlv), which slapd offers when the `sssvlv` overlay is loaded
  (Debian's slapd ships it; iRedMail does not load it). The controls are encoded here, the
  same bytes for both client libraries;
- without them, every entry's key is read (one attribute each) and the smallest after the
  window's start are kept, then their entries are read with one search.

Both give the same window in the same order: keys compared as lower-case text, which is how
slapd's caseIgnoreOrderingMatch compares the stored (lower-cased) values of iRedMail's
`mail` and `domainName`. Pure: no LDAP client library.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Optional

from .base import Entry, Scope, Window, WindowResult
from .escaping import escape_filter_value

# Directory.search's signature: (base, filter, scope, attributes) -> entries.
Search = Callable[[str, str, Scope, Optional[Sequence[str]]], Iterator[Entry]]

SORT_REQUEST = "1.2.840.113556.1.4.473"   # RFC 2891
VLV_REQUEST = "2.16.840.1.113730.3.4.9"
# iRedMail's keys (`mail`, `domainName`) have no ORDERING rule of their own, so the sort
# names one; slapd compares the attribute's normalized values with it.
ORDERING_RULE = "caseIgnoreOrderingMatch"
# Result codes with which slapd declines a sorted window: no sssvlv (unavailableCritical-
# Extension), no ordering rule (inappropriateMatching), too many sorts at once (busy),
# unwillingToPerform, a VLV error.
SORT_DECLINED = frozenset({12, 18, 51, 53, 76})
BUSY = 51

Control = tuple[str, bool, bytes]


class SortDeclined(Exception):
    """slapd declined to sort (`code`: its result code); the window is read without it."""

    def __init__(self, code: int) -> None:
        super().__init__(f"slapd declined to sort (result {code})")
        self.code = code


# -- the controls (DER) --------------------------------------------------------------------

def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def sort_control_value(key: str, ordering_rule: str = ORDERING_RULE) -> bytes:
    """SortKeyList with one key: SEQUENCE OF SEQUENCE {attributeType, [0] orderingRule}."""
    one = _der(0x04, key.encode()) + _der(0x80, ordering_rule.encode())
    return _der(0x30, _der(0x30, one))


def vlv_control_value(before: int, after: int, offset: Optional[int] = None,
                      content_count: int = 0, value: Optional[str] = None) -> bytes:
    """VirtualListViewRequest: `before` and `after` entries around the target, which is the
    entry at `offset` (1: the first) or the first whose key is at least `value`."""
    if value is None:
        target = _der(0xA0, _integer(offset or 1) + _integer(content_count))   # byOffset
    else:
        target = _der(0x81, value.encode())                                    # >= value
    return _der(0x30, _integer(before) + _integer(after) + target)


def window_controls(window: Window) -> list[Control]:
    """The sort and VLV controls of `window`, both critical. The view starts at the first
    key at least `after` and asks for two entries more than the window: the entry of `after`
    itself, if it is still there, and one that tells whether more follow."""
    if window.after is None:
        vlv = vlv_control_value(0, window.count, offset=1)
    else:
        vlv = vlv_control_value(0, window.count + 1, value=window.after)
    return [(SORT_REQUEST, True, sort_control_value(window.key)), (VLV_REQUEST, True, vlv)]


# -- keys and windows ----------------------------------------------------------------------

def sort_key(entry: Entry, key: str) -> Optional[str]:
    """The value `entry` is sorted by: its least `key` value, in lower case (None without)."""
    values = [str(value).lower() for value in entry.get(key)]
    return min(values) if values else None


def fetch_attributes(attributes: Optional[Sequence[str]], key: str) -> Optional[list[str]]:
    """`attributes` with the key among them (None: every user attribute, the key too)."""
    if not attributes:
        return None
    wanted = list(attributes)
    return wanted if key.lower() in (a.lower() for a in wanted) else [*wanted, key]


def _start(window: Window) -> Optional[str]:
    return None if window.after is None else window.after.lower()


def cut(entries: Iterable[Entry], window: Window) -> WindowResult:
    """The window among `entries` (slapd's view around it): those with a key after the
    window's start, in key order, at most `count` of them."""
    start = _start(window)
    keyed = sorted(((k, e.dn, e) for e in entries
                    if (k := sort_key(e, window.key)) is not None and (start is None or k > start)),
                   key=lambda item: (item[0], item[1]))
    chosen = keyed[:window.count]
    return WindowResult([e for _, _, e in chosen], len(keyed) > window.count,
                        chosen[-1][0] if chosen else None)


def scan(search: Search, base: str, search_filter: str, scope: Scope, window: Window,
         attributes: Optional[Sequence[str]] = None) -> WindowResult:
    """The window without slapd's sorting: a search for every entry's key (the API keeps
    only the `count` + 1 smallest after the start), then one search for the chosen
    entries. An entry removed between the two is missing from the window, which still ends
    at the last key chosen (`WindowResult.last`), so the next window neither repeats nor
    skips an entry."""
    start = _start(window)
    keyed = ((k, e.dn, e) for e in search(base, search_filter, scope, [window.key])
             if (k := sort_key(e, window.key)) is not None and (start is None or k > start))
    smallest = heapq.nsmallest(window.count + 1, keyed, key=lambda item: (item[0], item[1]))
    chosen, more = smallest[:window.count], len(smallest) > window.count
    last = chosen[-1][0] if chosen else None
    if not chosen or (attributes and {a.lower() for a in attributes} <= {window.key.lower()}):
        return WindowResult([e for _, _, e in chosen], more, last)
    named = "".join(f"({window.key}={escape_filter_value(k)})" for k, _, _ in chosen)
    found = {sort_key(e, window.key): e for e in search(
        base, f"(&{search_filter}(|{named}))", scope, fetch_attributes(attributes, window.key))}
    return WindowResult([found[k] for k, _, _ in chosen if k in found], more, last)
