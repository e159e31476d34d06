"""What GET replies leave out of mail users' and standalone admins' profiles: the attributes
API_HIDDEN_USER_PROFILES and API_HIDDEN_ADMIN_PROFILES name (iRedAdmin-Pro's settings; by
default the password hash, which `[]` exposes)."""

from __future__ import annotations

from collections.abc import Iterable

from ..directory import Entry

PASSWORD = "userpassword"


class HiddenAttributes:
    """One of the settings' lists of attribute names, compared without case as LDAP does."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = frozenset(name.lower() for name in names)

    @property
    def shows_password(self) -> bool:
        """Whether the operator lets replies carry the password hash."""
        return PASSWORD not in self._names

    def apply(self, entry: Entry, hide_password: bool = False) -> Entry:
        """`entry` without the hidden attributes, and without its password hash when
        `hide_password` (an account whose privileges exceed a normal admin's: the hash
        could be cracked offline and the account taken over)."""
        hidden = (self._names | {PASSWORD}) if hide_password else self._names
        if not any(name.lower() in hidden for name in entry.attrs):
            return entry
        return Entry(entry.dn, {name: values for name, values in entry.attrs.items()
                                if name.lower() not in hidden})
