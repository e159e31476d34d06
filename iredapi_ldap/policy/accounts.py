"""Policy account keys and their priorities, as iRedAPD and Amavisd use them. Pure.

Keys: `user@domain` (one user), `@domain` (a domain), `@.domain` (a domain and its
subdomains), `@.tld` (a top-level domain), `@.` (everyone). Priorities are iRedAPD's
ACCOUNT_PRIORITIES (libs/__init__.py); iRedAPD writes Amavisd's `users.priority` with the
same numbers, so a user's row outranks its domain's, which outranks the global one.
"""

import ipaddress
from typing import Optional

from ..addresses import is_domain, is_email

GLOBAL = "@."
PRIORITIES: dict[Optional[str], int] = {
    "email": 100, "wildcard_addr": 90, "ip": 80, "cidr": 70, "domain": 60, "subdomain": 50,
    "top_level_domain": 40, "catchall": 0}


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
