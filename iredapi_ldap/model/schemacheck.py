"""Checking an entry against a schema before it is written (import --dry-run). Pure.

The schema is the server's own (its subschema entry), so what passes here is what slapd will
accept: known object classes, their MUST attributes present (superclasses included), every
attribute allowed by some class, SINGLE-VALUE attributes with one value.
"""

from collections.abc import Iterable, Mapping, Sequence

from .schemadefs import Definition, parse_definitions


class Schema:
    def __init__(self, object_classes: Iterable[str], attribute_types: Iterable[str]) -> None:
        """`object_classes`, `attribute_types`: the subschema's description strings."""
        # any name (lower) -> canonical definition
        self._attributes: dict[str, Definition] = {}
        for definition in parse_definitions("attributetype", attribute_types):
            for name in definition.names:
                self._attributes[name.lower()] = definition
        self._classes: dict[str, Definition] = {}
        for definition in parse_definitions("objectclass", object_classes):
            for name in definition.names:
                self._classes[name.lower()] = definition

    def _canonical(self, attribute: str) -> str | None:
        definition = self._attributes.get(attribute.lower().split(";")[0])
        return definition.oid if definition else None

    def _class_chain(self, name: str) -> list[Definition]:
        chain: list[Definition]
        todo: list[str]
        chain, todo = [], [name.lower()]
        while todo:
            definition = self._classes.get(todo.pop())
            if definition is None or definition in chain:
                continue
            chain.append(definition)
            sup = definition.fields.get("SUP")
            todo += [s.lower() for s in (sup if isinstance(sup, tuple) else (sup,)) if s]
        return chain

    def problems(self, attrs: Mapping[str, Sequence[object]]) -> list[str]:
        """What keeps `attrs` ({attribute: [values]}) from being a valid entry; [] if none."""
        classes = [str(c) for c in attrs.get("objectClass", attrs.get("objectclass", []))]
        unknown = [c for c in classes if c.lower() not in self._classes]
        if not classes:
            return ["no objectClass"]
        if unknown:
            return [f"unknown object class {c}" for c in unknown]
        chains = [d for c in classes for d in self._class_chain(c)]
        must = {self._canonical(a) for d in chains for a in d.fields.get("MUST", ())}
        may = {self._canonical(a) for d in chains for a in d.fields.get("MAY", ())}
        present = {self._canonical(a): a for a in attrs}
        found: list[str] = []
        for attribute, values in attrs.items():
            oid = self._canonical(attribute)
            if oid is None:
                found.append(f"unknown attribute {attribute}")
            elif oid not in must | may and "extensibleobject" not in {c.lower()
                                                                       for c in classes}:
                if attribute.lower() != "objectclass":
                    found.append(f"attribute {attribute} is not allowed by "
                                 f"{', '.join(classes)}")
            elif self._attributes[attribute.lower().split(';')[0]].fields.get(
                    "SINGLE-VALUE") and len(values) > 1:
                found.append(f"attribute {attribute} takes one value")
        for oid in must - set(present) - {None}:
            names = [d.name for d in self._attributes.values() if d.oid == oid]
            found.append(f"missing required attribute {names[0] if names else oid}")
        return found
