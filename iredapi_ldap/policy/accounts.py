"""Policy account keys and their priorities, as iRedAPD and Amavisd use them. Pure.

Keys: `user@domain` (one user), `@domain` (a domain), `@.domain` (a domain and its
subdomains), `@.tld` (a top-level domain), `@.` (everyone); as senders in white/blacklists
also IP addresses and networks. Two scales of priority (higher wins), each in its own tables:
iRedAPD's ACCOUNT_PRIORITIES (libs/__init__.py) in its `throttle` and `greylisting` rows, and
Amavisd's in `users.priority` and `mailaddr.priority` (the MAILADDR_PRIORITIES that iRedAdmin
and iRedAPD's libs/wblist.py write there, following Amavisd's README.lookups). Only the order
matters within a table, but rows written by iRedAdmin share the Amavisd tables with ours: a
domain's `users` row must not outrank a user's row iRedAdmin wrote, so both scales are kept.
"""

import ipaddress
from typing import Optional

from ..addresses import is_domain, is_email

GLOBAL = "@."
PRIORITIES: dict[Optional[str], int] = {
    "email": 100, "wildcard_addr": 90, "ip": 80, "cidr": 70, "domain": 60, "subdomain": 50,
    "top_level_domain": 40, "catchall": 0}
AMAVISD_PRIORITIES: dict[Optional[str], int] = {
    "email": 10, "ip": 9, "cidr": 7, "domain": 5, "subdomain": 3, "top_level_domain": 2,
    "catchall": 0}


def account_type(key: str) -> Optional[str]:
    """The kind of a policy key or sender, or None when it is none of them."""
    if key == GLOBAL:
        return "catchall"
    if key.startswith("@."):
        rest = key[2:]
        if is_domain(rest):
            return "subdomain"
        return "top_level_domain" if rest.isalpha() and rest.isascii() else None
    if key.startswith("@"):
        return "domain" if is_domain(key[1:]) else None
    if "@" in key:
        return "email" if is_email(key) else None
    try:
        network = ipaddress.ip_network(key, strict=False)
    except ValueError:
        return None
    return "ip" if "/" not in key or network.num_addresses == 1 else "cidr"


def priority(key: str) -> int:
    """iRedAPD's priority of a policy key (higher wins)."""
    return PRIORITIES[account_type(key)]


def amavisd_priority(key: str) -> int:
    """Amavisd's priority of a `users` or `mailaddr` key (higher wins). A network given
    with a prefix is one even when it holds one address (`192.0.2.1/32`), as iRedAPD
    classifies it."""
    kind = account_type(key)
    return AMAVISD_PRIORITIES["cidr" if kind == "ip" and "/" in key else kind]


def amavisd_lookup_keys(address: str) -> list[str]:
    """The keys Amavisd looks up for a recipient, most specific first.

    For `alice@mail.example.com`: the address, `@mail.example.com`, `@.mail.example.com`,
    `@.example.com`, `@.com`, `@.`.
    """
    domain = address.rsplit("@", 1)[1]
    labels = domain.split(".")
    keys = [address, "@" + domain]
    keys += ["@." + ".".join(labels[i:]) for i in range(len(labels))]
    return keys + [GLOBAL]
