"""Escaping of values in LDAP filters and DNs. Pure: no LDAP client library, so the model
and `layout` may use it.

The same rules as python-ldap's `ldap.filter.escape_filter_chars` (mode 0) and
`ldap.dn.escape_dn_chars`, so a DN the API builds is spelled the same way with either adapter.
"""

from collections.abc import Iterable
from typing import Protocol


class _Valued(Protocol):
    def get(self, name: str) -> list: ...


# RFC 4515: the characters an assertion value must not hold as themselves.
_FILTER_ESCAPES = str.maketrans({"\\": r"\5c", "*": r"\2a", "(": r"\28", ")": r"\29",
                                 "\x00": r"\00"})
# RFC 4514, section 2.4: the characters escaped with a backslash anywhere in a value.
_DN_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", "+": "\\+", '"': '\\"', "<": "\\<",
                             ">": "\\>", ";": "\\;", "=": "\\=", "\x00": "\\00"})


def escape_filter_value(value: object) -> str:
    """`value` made safe to stand inside an LDAP filter assertion (RFC 4515)."""
    return str(value).translate(_FILTER_ESCAPES)


def escape_dn_value(value: object) -> str:
    """`value` made safe to stand as an RDN value in a DN (RFC 4514)."""
    text = str(value)
    if not text:
        return text
    text = text.translate(_DN_ESCAPES)
    if text[-1] == " ":
        text = text[:-1] + "\\ "
    if text[0] in "# ":
        text = "\\" + text
    return text


def still_holding(entry: _Valued, attributes: Iterable[str]) -> str:
    """An assertion (LDAP filter) that `entry` still holds the values it was read with for
    `attributes` (absent ones still absent): a write under it fails if another writer
    changed them meanwhile."""
    parts = []
    for name in attributes:
        values = entry.get(name)
        parts += ([f"({name}={escape_filter_value(v)})" for v in values] if values
                  else [f"(!({name}=*))"])
    return "(&" + "".join(parts) + ")"
