"""Editing an entry as a whole, then writing only what changed. Pure.

Several parameters of one request may touch the same attribute (`senderBcc` and
`removeService` both change `enabledService`); each edits the draft in turn, and the draft
turns the result into one REPLACE per changed attribute. `accountSetting` is edited as a
mapping and written back as `key:value` items.
"""

from ..directory.base import Change, Op
from .render import LIST_SETTINGS


class EntryDraft:
    """The values of an entry, as they will be after this request."""

    def __init__(self, attrs=None):
        self._original = {}
        self._values = {}
        for name, values in (attrs or {}).items():
            self._original[name.lower()] = (name, [str(v) for v in values])
            self._values[name.lower()] = list(self._original[name.lower()][1])
        self._names = {key: name for key, (name, _) in self._original.items()}

    @classmethod
    def of(cls, entry):
        return cls(entry.attrs if entry is not None else {})

    def get(self, attribute):
        return list(self._values.get(attribute.lower(), []))

    def first(self, attribute, default=None):
        values = self.get(attribute)
        return values[0] if values else default

    def set(self, attribute, values):
        self._names.setdefault(attribute.lower(), attribute)
        self._values[attribute.lower()] = list(values)

    def add(self, attribute, *values):
        """Add values not present yet (compared without case, as LDAP does)."""
        current = self.get(attribute)
        lowered = {v.lower() for v in current}
        self.set(attribute, current + [v for v in values if v.lower() not in lowered])

    def remove(self, attribute, *values):
        unwanted = {v.lower() for v in values}
        self.set(attribute, [v for v in self.get(attribute) if v.lower() not in unwanted])

    def has(self, attribute, value):
        return value.lower() in {v.lower() for v in self.get(attribute)}

    # -- accountSetting -----------------------------------------------------------------

    def settings(self):
        """accountSetting as {key: value or [values]}, in stored order."""
        out = {}
        for item in self.get("accountSetting"):
            key, sep, value = item.partition(":")
            if not sep:
                continue
            if key.lower() in LIST_SETTINGS:
                out.setdefault(key, []).append(value)
            else:
                out[key] = value
        return out

    def set_setting(self, key, value):
        """Set (or with None, remove) one accountSetting key; a list value for list keys."""
        settings = self.settings()
        settings.pop(key, None)
        if value is not None and value != []:
            settings[key] = value
        items = []
        for name, stored in settings.items():
            for one in (stored if isinstance(stored, list) else [stored]):
                items.append(f"{name}:{one}")
        self.set("accountSetting", items)

    # -- result -------------------------------------------------------------------------

    def attributes(self):
        """All non-empty attributes (for an add)."""
        return {self._names[key]: values for key, values in self._values.items() if values}

    def assigned(self):
        """{attribute: values} of every attribute the draft holds, empty ones included: on
        a draft begun without the entry, what to REPLACE blindly."""
        return {self._names[key]: list(values) for key, values in self._values.items()}

    def changes(self):
        """REPLACE changes for every attribute whose values differ from the original."""
        out = []
        for key, values in self._values.items():
            before = self._original.get(key, (None, []))[1]
            if sorted(values) != sorted(before):
                out.append(Change(self._names[key], Op.REPLACE, tuple(values)))
        return out
