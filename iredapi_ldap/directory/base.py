"""The directory contract the services are written against.

Adapters work on DNs and plain attribute dicts and raise only `iredapi_ldap.errors` exceptions.
Implementations: `ldap3_backend.Ldap3Directory` and `pyldap_backend.PythonLdapDirectory`.
"""

import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional, Protocol, Sequence


class Scope(enum.Enum):
    BASE = "base"
    ONE = "one"
    SUB = "sub"


class Op(enum.Enum):
    """How a `Change` alters an attribute."""

    ADD = "add"          # add these values (error if one is there already)
    DELETE = "delete"    # delete these values, or the whole attribute when none are given
    REPLACE = "replace"  # the attribute holds exactly these values (none: remove it)
    INCREMENT = "increment"  # RFC 4525: add an integer to an INTEGER attribute


@dataclass(frozen=True)
class Change:
    attribute: str
    op: Op
    values: tuple[Any, ...] = ()


@dataclass
class Entry:
    """A directory entry: its DN and attribute values (all multi-valued, as LDAP returns them).

    Attribute names keep the server's spelling; lookups ignore case, as LDAP does.
    """

    dn: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {name.lower(): name for name in self.attrs}

    def get(self, name: str) -> list[Any]:
        """All values of attribute `name` (empty list when absent)."""
        key = self._index.get(name.lower())
        return list(self.attrs[key]) if key else []

    def first(self, name: str, default: Any = None) -> Any:
        """The first value of attribute `name`, or `default`."""
        values = self.get(name)
        return values[0] if values else default

    def has_value(self, name: str, value: object) -> bool:
        """Whether `name` holds `value`, compared without regard to case."""
        wanted = str(value).lower()
        return any(str(v).lower() == wanted for v in self.get(name))


@dataclass(frozen=True)
class Window:
    """Where a sorted window of a search's results starts and how long it is: the `count`
    entries whose `key` values come first after `after` (all of them when None), the values
    compared without regard to case (`key` holds one value per entry and tells them apart, as
    `mail` and `domainName` do in iRedMail's containers)."""

    key: str
    after: Optional[str]
    count: int


@dataclass(frozen=True)
class WindowResult:
    """The entries of a `Window`, in key order; whether more follow them; and the key the
    next window starts after (the last entry's, in lower case; None for an empty window)."""

    entries: list["Entry"]
    more: bool
    last: Optional[str] = None


class Directory(Protocol):
    """Operations on the directory. Each may raise `errors.DirectoryUnavailable`."""

    def get(self, dn: str, attributes: Optional[Sequence[str]] = None) -> Optional[Entry]:
        """The entry at `dn`, or None when there is none."""

    def search(self, base: str, search_filter: str, scope: Scope = Scope.SUB,
               attributes: Optional[Sequence[str]] = None,
               page_size: int = 500) -> Iterator[Entry]:
        """Entries below `base` matching `search_filter`, streamed page by page.

        Raises `errors.EntryNotFound` when `base` does not exist.
        """

    def search_window(self, base: str, search_filter: str, scope: Scope, window: Window,
                      attributes: Optional[Sequence[str]] = None) -> WindowResult:
        """The entries of `window` among those `search` would find, in key order; entries
        without the key are left out. Sorted by slapd where it can (RFC 2891 and the VLV
        control, the `sssvlv` overlay), else by reading every entry's key: either way the
        API holds no more than the window.

        Raises `errors.EntryNotFound` when `base` does not exist.
        """

    def add(self, dn: str, attributes: Mapping[str, Sequence[Any]]) -> None:
        """Create an entry. Raises `errors.EntryExists` when `dn` is taken."""

    def modify(self, dn: str, changes: Sequence[Change],
               assertion: Optional[str] = None) -> None:
        """Apply `changes` atomically. With `assertion` (an LDAP filter, RFC 4528), only if
        the entry matches it; otherwise `errors.ConcurrentUpdate`."""

    def modify_read(self, dn: str, changes: Sequence[Change], attributes: Sequence[str],
                    assertion: Optional[str] = None) -> Entry:
        """`modify`, returning the entry's `attributes` as the same operation left them
        (RFC 4527 post-read): values no concurrent write can have changed in between, e.g.
        the count an increment (`Op.INCREMENT`, RFC 4525) produced."""
        ...

    def delete(self, dn: str, subtree: bool = False, assertion: Optional[str] = None) -> int:
        """Remove an entry, or with `subtree` the entry and everything below it; returns
        how many entries were removed. With `assertion` (one entry), only if the entry
        matches it; otherwise `errors.ConcurrentUpdate`. An entry with entries below it
        raises `errors.EntryHasChildren`."""

    def rename(self, dn: str, new_rdn: str, new_superior: Optional[str] = None) -> str:
        """Modify DN; returns the new DN."""

    def writes_held(self) -> Optional[float]:
        """None when writes that reserve against a limit may go on; after a failover to
        another server, until it has caught up and the counters are repaired, the seconds
        since the failover."""
        ...

    def check_password(self, dn: str, password: str) -> bool:
        """Whether slapd accepts a simple bind as `dn` with `password`."""
