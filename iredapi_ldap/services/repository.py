"""The directory and the layout together: what every service reads and writes through.

DNs are built by the layout (layout.py) only; services name an entry by its kind and name
(`repo.dn(USER, mail)`) and call the directory itself for the rest (`repo.directory.search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..directory import Directory, Entry, from_settings
from ..layout import Layout

if TYPE_CHECKING:
    from ..config import Settings
    from ..model.params import Kind
    from .domain_locks import DomainLocks


@dataclass(frozen=True)
class Repository:
    directory: Directory
    layout: Layout
    # Turns per domain among this host's workers (quota sums, services/reservations.py).
    locks: DomainLocks | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Repository:
        """The configured directory adapter (no connection is opened yet) and layout."""
        # Each adapter is a Directory (tests/unit/test_interfaces.py); their base is not.
        return cls(cast(Directory, from_settings(settings)), Layout.from_settings(settings))

    @property
    def basedn(self) -> str:
        """Where the domains live (LDAP_BASEDN)."""
        return self.layout.basedn

    @property
    def admin_basedn(self) -> str:
        """Where the standalone admins live (LDAP_ADMIN_BASEDN)."""
        return self.layout.admin_basedn

    def dn(self, kind: Kind, name: str) -> str:
        """The DN of the entry of `kind` named `name` (a domain name or an address)."""
        return self.layout.entry_dn(kind, name)

    def rdn(self, kind: Kind, name: str) -> str:
        """The RDN of the entry of `kind` named `name`: the new RDN of a rename."""
        return self.layout.rdn(kind, name)

    def domain_dn(self, domain: str) -> str:
        return self.layout.domain_dn(domain)

    def container_dn(self, domain: str, kind: Kind) -> str:
        """The DN of the container of `kind` (ou=Users, ...) in `domain`. (Every container,
        kind or not: `repo.layout.container_dn(domain, container)`.)"""
        if kind.container is None:
            raise ValueError(f"{kind.name} entries are in no container")
        return self.layout.container_dn(domain, kind.container)

    def get(self, kind: Kind, name: str,
            attributes: Sequence[str] | None = None) -> Entry | None:
        """The entry of `kind` named `name` (with `attributes`), or None."""
        return self.directory.get(self.dn(kind, name), attributes)
