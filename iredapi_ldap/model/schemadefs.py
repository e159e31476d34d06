"""Parse LDAP schema definitions (RFC 4512): from `.schema` files, cn=config LDIF, or the
values of a server's subschema entry. Pure.

Used to check entries before an import writes them, and by the tests that hold our
`devslapd/schema/` LDIF to the upstream iRedMail and amavisd schemas.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

_TOKEN = re.compile(r"\(|\)|'(?:[^'\\]|\\.)*'|[^\s()']+")
_SYNTAX = re.compile(r"^([0-9.]+)(?:\{(\d+)\})?$")


@dataclass(frozen=True)
class Definition:
    """One attribute type or object class, with the fields compatibility depends on."""

    kind: str  # 'attributetype' or 'objectclass'
    oid: str
    names: tuple[str, ...]
    # key -> a value (str), several (tuple[str, ...]), True (a flag), or for LENGTH an int or
    # None
    fields: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return self.names[0]

    def comparable(self) -> dict[str, object]:
        """Everything but DESC, with names folded to lower case (LDAP names ignore case)."""
        out: dict[str, object] = {}
        for key, value in self.fields.items():
            if key == "DESC":
                continue
            if isinstance(value, tuple):
                value = tuple(sorted(v.lower() for v in value))
            elif key in ("SUP", "EQUALITY", "ORDERING", "SUBSTR") and isinstance(value, str):
                value = value.lower()
            out[key] = value
        return {"oid": self.oid, "names": tuple(n.lower() for n in self.names), **out}


def _parse_body(kind: str, text: str) -> Definition:
    tokens = _TOKEN.findall(text)
    if not tokens or tokens[0] != "(" or tokens[-1] != ")":
        raise ValueError(f"not a parenthesised definition: {text[:60]!r}")
    tokens = tokens[1:-1]
    oid, rest = tokens[0], tokens[1:]
    fields: dict[str, Any]
    names: tuple[str, ...]
    values: str | tuple[str, ...]
    fields, names, i = {}, (), 0
    while i < len(rest):
        key = rest[i]
        i += 1
        if key in ("SINGLE-VALUE", "NO-USER-MODIFICATION", "COLLECTIVE", "OBSOLETE",
                   "STRUCTURAL", "AUXILIARY", "ABSTRACT"):
            fields[key] = True
            continue
        if rest[i] == "(":
            end = rest.index(")", i)
            values = tuple(v.strip("'") for v in rest[i + 1:end] if v != "$")
            i = end + 1
        else:
            values = rest[i].strip("'")
            i += 1
        if key == "NAME":
            names = values if isinstance(values, tuple) else (values,)
        elif key in ("MUST", "MAY"):
            fields[key] = values if isinstance(values, tuple) else (values,)
        elif key == "SYNTAX":
            # One OID: the casts only tell mypy so (a list, or no match, fails as before).
            oid_len = cast("re.Match[str]", _SYNTAX.match(cast(str, values)))
            fields["SYNTAX"] = oid_len.group(1)
            fields["LENGTH"] = int(oid_len.group(2)) if oid_len.group(2) else None
        else:
            fields[key] = values
    return Definition(kind, oid, names, fields)


def parse_schema_file(path: str | Path) -> list[Definition]:
    """Definitions of an OpenLDAP `.schema` (slapd.conf include) file."""
    text = "\n".join(
        line for line in Path(path).read_text().splitlines() if not line.lstrip().startswith("#")
    )
    pattern = re.compile(r"^(attributetype|objectclass)\s+(\(.*?\))\s*(?=^\S|\Z)",
                         re.IGNORECASE | re.MULTILINE | re.DOTALL)
    return [_parse_body(m.group(1).lower(), m.group(2)) for m in pattern.finditer(text)]


def parse_config_ldif(path: str | Path) -> list[Definition]:
    """Definitions of a cn=config schema LDIF (`olcAttributeTypes` / `olcObjectClasses`)."""
    unfolded = re.sub(r"\n ", "", Path(path).read_text())
    defs: list[Definition] = []
    for line in unfolded.splitlines():
        key, _, value = line.partition(":")
        kind = {"olcattributetypes": "attributetype", "olcobjectclasses": "objectclass"}.get(
            key.strip().lower())
        if kind:
            value = re.sub(r"^\s*\{\d+\}", "", value)
            defs.append(_parse_body(kind, value.strip()))
    return defs


def parse_definitions(kind: str, values: Iterable[str]) -> list[Definition]:
    """Definitions from subschema values (`objectClasses` or `attributeTypes`)."""
    return [_parse_body(kind, value.strip()) for value in values]
