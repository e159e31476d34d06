"""Validation of domain names and e-mail addresses as iRedMail accepts them. Pure.

Every pattern matches the whole text (`fullmatch`): `$` alone would also match before a
trailing newline, and `example.com\\n` would then act on `example.com`.
"""

import re

MAX_DOMAIN_LENGTH = 253   # RFC 1035: 255 octets on the wire, 253 characters as text
MAX_MAIL_LENGTH = 320     # mail-like attributes are IA5{320}
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Dot-atom local part of RFC 5322, ASCII only (iRedMail refuses non-ASCII addresses).
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")

# The same shapes as regular expressions for the API description (openapi.py), written
# without look-around so that JSON Schema tools and test generators read them; letters of
# either case, as the API lower-cases what it is given. A unit test checks them against
# is_domain and is_email.
_LABEL_TEXT = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN_PATTERN = rf"{_LABEL_TEXT}(?:\.{_LABEL_TEXT})+"
_LOCAL_TEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MAIL_PATTERN = rf"{_LOCAL_TEXT}(?:\.{_LOCAL_TEXT})*@{DOMAIN_PATTERN}"


def is_domain(name: object) -> bool:
    """Whether `name` (already lower-cased) is a valid DNS domain name with at least two labels.

    Internationalised names must come IDNA-encoded (`xn--...`).
    """
    if not isinstance(name, str) or not 3 <= len(name) <= MAX_DOMAIN_LENGTH:
        return False
    labels = name.split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) \
        and not labels[-1].isdigit()


def is_email(address: object) -> bool:
    """Whether `address` (already lower-cased) is `local@domain` with a valid domain."""
    if not isinstance(address, str) or len(address) > MAX_MAIL_LENGTH or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    return len(local) <= 64 and bool(_LOCAL.fullmatch(local)) and is_domain(domain)


def domain_of(address: str) -> str:
    """The domain part of a valid address."""
    return address.rsplit("@", 1)[1]
