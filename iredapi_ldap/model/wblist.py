"""White- and blacklists (`/api/wblist/...`): their URL parts and the addresses they take.
Pure.

The addresses are those the iRedAdmin-Pro API document lists: an IP address, an IPv4 or IPv6
network, `user@domain`, `@domain`, `@.domain` (the domain and its subdomains) and `@.`
(everyone). Anything else is discarded, not refused (the document: "invalid addresses will
be discarded silently"); the reply names what was.
"""

import ipaddress
from typing import Optional

from ..addresses import is_domain, is_email

DIRECTIONS = ("inbound", "outbound")
LISTS = {"whitelist": "W", "blacklist": "B"}   # URL part -> Amavisd's `wb` value
ADDRESSES = "addresses"                        # the parameter of POST (add) and PUT (remove)
CATCHALL = "@."
# `mailaddr.email` is VARBINARY(255) in Amavisd's schema: a longer address cannot be stored.
MAX_ADDRESS_LENGTH = 255


def sender_address(text: str) -> Optional[str]:
    """`text` as stored (lower-case; an IP address or network in its canonical form, so that
    it equals the client address Postfix gives iRedAPD), or None when it is none of the
    forms the lists take."""
    address = text.strip().lower()
    if not address or len(address) > MAX_ADDRESS_LENGTH:
        return None
    if address == CATCHALL:
        return address
    if address.startswith("@."):
        return address if is_domain(address[2:]) else None
    if address.startswith("@"):
        return address if is_domain(address[1:]) else None
    if "@" in address:
        return address if is_email(address) else None
    return _ip_or_network(address)


def _ip_or_network(text: str) -> Optional[str]:
    # A scope (`fe80::1%eth0`) names an interface of this host, never a mail client.
    if "%" in text:
        return None
    try:
        if "/" in text:
            # strict: a network with host bits set (192.0.2.9/24) is ambiguous, and
            # iRedAPD's own check (ipaddress.ip_network) refuses it too.
            return str(ipaddress.ip_network(text, strict=True))
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def parse_addresses(value: str) -> tuple[list[str], list[str]]:
    """A comma-separated `addresses` parameter: (the addresses to store, in the order given
    and without repeats; the items discarded, as given). Empty items are neither."""
    kept: dict[str, None] = {}
    discarded: dict[str, None] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        address = sender_address(item)
        if address is None:
            discarded[item.strip()] = None
        else:
            kept[address] = None
    return list(kept), list(discarded)
