"""Editing an entry as a whole, then writing only what changed. Pure.

Several parameters of one request may touch the same attribute (`senderBcc` and
`removeService` both change `enabledService`); each edits the draft in turn, and the draft
turns the result into one REPLACE per changed attribute. `accountSetting` is edited as a
mapping and written back as `key:value` items.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Self

from ..directory.base import Change, Entry, Op
from .render import LIST_SETTINGS

# An accountSetting value: one text, or a list of them for the keys of LIST_SETTINGS.
Setting = str | list[str]


class EntryDraft:
    """The values of an entry, as they will be after this request."""

    def __init__(self, attrs: Mapping[str, Iterable[object]] | None = None) -> None:
        self._original: dict[str, tuple[str, list[str]]] = {}
        self._values: dict[str, list[str]] = {}
        for name, values in (attrs or {}).items():
            self._original[name.lower()] = (name, [str(v) for v in values])
            self._values[name.lower()] = list(self._original[name.lower()][1])
        self._names = {key: name for key, (name, _) in self._original.items()}

    @classmethod
    def of(cls, entry: Entry | None) -> Self:
        return cls(entry.attrs if entry is not None else {})

    def get(self, attribute: str) -> list[str]:
        return list(self._values.get(attribute.lower(), []))

    def first(self, attribute: str, default: str | None = None) -> str | None:
        values = self.get(attribute)
        return values[0] if values else default

    def set(self, attribute: str, values: Iterable[str]) -> None:
        self._names.setdefault(attribute.lower(), attribute)
        self._values[attribute.lower()] = list(values)

    def add(self, attribute: str, *values: str) -> None:
        """Add values not present yet (compared without case, as LDAP does)."""
        current = self.get(attribute)
        lowered = {v.lower() for v in current}
        self.set(attribute, current + [v for v in values if v.lower() not in lowered])

    def remove(self, attribute: str, *values: str) -> None:
        unwanted = {v.lower() for v in values}
        self.set(attribute, [v for v in self.get(attribute) if v.lower() not in unwanted])

    def has(self, attribute: str, value: str) -> bool:
        return value.lower() in {v.lower() for v in self.get(attribute)}

    # -- accountSetting -----------------------------------------------------------------

    def settings(self) -> dict[str, Setting]:
        """accountSetting as {key: value or [values]}, in stored order."""
        out: dict[str, Any] = {}  # Setting values; Any lets a list key's list grow
        for item in self.get("accountSetting"):
            key, sep, value = item.partition(":")
            if not sep:
                continue
            if key.lower() in LIST_SETTINGS:
                out.setdefault(key, []).append(value)
            else:
                out[key] = value
        return out

    def set_setting(self, key: str, value: Setting | None) -> None:
        """Set (or with None, remove) one accountSetting key; a list value for list keys."""
        settings = self.settings()
        settings.pop(key, None)
        if value is not None and value != []:
            settings[key] = value
        items: list[str] = []
        for name, stored in settings.items():
            for one in (stored if isinstance(stored, list) else [stored]):
                items.append(f"{name}:{one}")
        self.set("accountSetting", items)

    # -- result -------------------------------------------------------------------------

    def attributes(self) -> dict[str, list[str]]:
        """All non-empty attributes (for an add)."""
        return {self._names[key]: values for key, values in self._values.items() if values}

    def assigned(self) -> dict[str, list[str]]:
        """{attribute: values} of every attribute the draft holds, empty ones included: on
        a draft begun without the entry, what to REPLACE blindly."""
        return {self._names[key]: list(values) for key, values in self._values.items()}

    def changes(self) -> list[Change]:
        """REPLACE changes for every attribute whose values differ from the original."""
        out = []
        for key, values in self._values.items():
            before = self._original.get(key, (None, []))[1]
            if sorted(values) != sorted(before):
                out.append(Change(self._names[key], Op.REPLACE, tuple(values)))
        return out
