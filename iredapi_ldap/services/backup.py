"""LDIF export and import (backups and moves), with python-ldap's RFC 2849 `ldif` module.

Export walks a subtree one level at a time, so parents always come before their children (a
single subtree search returns entries in slapd's internal order, where a renamed entry can
precede its parent). Each level streams from a paged search: entries without children
(`hasSubordinates: FALSE`: users, aliases, lists) are written as they arrive; entries with
children (containers) are descended into after the level's search is done, because slapd keeps
one paged search per connection. Operational attributes are left out; password hashes are
kept (these are backups).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import ldif

from ..directory import Change, Directory, Entry, Op, Scope
from ..errors import BadRequest, EntryExists, EntryNotFound
from ..model.schemacheck import Schema
from .repository import Repository

LDIF_COLUMNS = 76
WALK_ATTRIBUTES = ["*", "hasSubordinates"]

# One LDIF record's attributes: {attribute: [value]}.
Record = Mapping[str, Sequence[Any]]


def walk(directory: Directory, dn: str) -> Iterator[Entry]:
    """The entry at `dn` and everything below it, parents first."""
    root = directory.get(dn, WALK_ATTRIBUTES)
    if root is None:
        raise EntryNotFound(detail=f"no entry {dn}")
    yield from _subtree(directory, root)


def _subtree(directory: Directory, entry: Entry) -> Iterator[Entry]:
    yield _clean(entry)
    if not _has_children(entry):
        return
    containers = []
    for child in directory.search(entry.dn, "(objectClass=*)", Scope.ONE, WALK_ATTRIBUTES):
        if _has_children(child):
            containers.append(child)
        else:
            yield _clean(child)
    for child in containers:
        yield from _subtree(directory, child)


def _has_children(entry: Entry) -> bool:
    return str(entry.first("hasSubordinates", "FALSE")).upper() == "TRUE"


def _clean(entry: Entry) -> Entry:
    return Entry(entry.dn, {name: values for name, values in entry.attrs.items()
                            if name.lower() != "hassubordinates"})


def ldif_chunks(entries: Iterable[Entry]) -> Iterator[str]:
    """LDIF text of `entries`, one chunk per entry, as it is produced."""
    buffer = io.StringIO()
    writer = ldif.LDIFWriter(buffer, cols=LDIF_COLUMNS)
    for entry in entries:
        writer.unparse(entry.dn, {name: [_bytes(v) for v in values]
                                  for name, values in entry.attrs.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


# -- import ---------------------------------------------------------------------------------


@dataclass
class ImportReport:
    records: int = 0
    added: int = 0
    replaced: int = 0
    skipped: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)   # (dn, reason)
    domains: set[str] = field(default_factory=set)     # domains whose counters need recomputing


def each_record(stream: BinaryIO, handle: Callable[[str, dict[str, list[str]]], None]) -> None:
    """Call `handle(dn, {attribute: [str]})` for every record of an LDIF stream, one at a
    time (the file is never held in memory).

    Raises:
        ValueError: the stream is not LDIF of entries (python-ldap's parser refuses it, a value
            is not UTF-8, or a record is a change record).
    """
    class _Parser(ldif.LDIFParser):
        def handle(self, dn: str, entry: dict[str, list[bytes]]) -> None:
            if any(name.lower() == "changetype" for name in entry):
                raise ValueError(f"line {self.line_counter}: {dn} is a change record "
                                 "(changetype), not an entry")
            handle(dn, {name: [v.decode("utf-8") for v in values]
                        for name, values in entry.items()})
    _Parser(stream).parse()


def load_schema(directory: Directory) -> Schema:
    """The server's schema, from its subschema entry."""
    entry = directory.get("cn=Subschema", ["objectClasses", "attributeTypes"])
    if entry is None:
        raise BadRequest(detail="the directory does not publish its schema (cn=Subschema)")
    return Schema(entry.get("objectClasses"), entry.get("attributeTypes"))


class Importer:
    """Writes LDIF records: parents first (an entry whose parent is not there yet is tried
    again after the others); an existing entry is skipped, replaced, or stops the import."""

    def __init__(self, repo: Repository, on_conflict: str, report: ImportReport) -> None:
        self._repo = repo
        self._on_conflict = on_conflict
        self._report = report
        self._waiting: list[tuple[str, Record]] = []

    def check(self, schema: Schema) -> Callable[[str, Record], None]:
        """A record handler that only validates (the dry run, and the pass before writing)."""
        def handle(dn: str, attrs: Record) -> None:
            self._report.records += 1
            for problem in schema.problems(attrs):
                self._report.invalid.append((dn, problem))
        return handle

    def write(self, dn: str, attrs: Record) -> None:
        self._report.records += 1
        if not self._add(dn, attrs):
            self._waiting.append((dn, attrs))
        self._note_domain(dn)

    def finish(self) -> None:
        for dn, attrs in self._waiting:
            if not self._add(dn, attrs):
                raise EntryNotFound(detail=f"{dn}: its parent entry is missing")

    def _add(self, dn: str, attrs: Record) -> bool:
        """Whether the record was dealt with (False: its parent does not exist yet)."""
        try:
            self._repo.directory.add(dn, attrs)
            self._report.added += 1
            return True
        except EntryNotFound:
            return False
        except EntryExists:
            if self._on_conflict == "fail":
                raise EntryExists(detail=f"{dn} exists already") from None
            if self._on_conflict == "skip":
                self._report.skipped += 1
                return True
        self._replace(dn, attrs)
        return True

    def _replace(self, dn: str, attrs: Record) -> None:
        """Make the existing entry hold exactly the record's attributes."""
        current = cast(Entry, self._repo.directory.get(dn, ["*"]))  # the add found it there
        wanted = {name.lower() for name in attrs}
        changes = [Change(name, Op.REPLACE, tuple(values)) for name, values in attrs.items()
                   if name.lower() != "objectclass"]
        changes += [Change(name, Op.DELETE) for name in current.attrs
                    if name.lower() not in wanted]
        self._repo.directory.modify(dn, changes)
        self._report.replaced += 1

    def _note_domain(self, dn: str) -> None:
        lowered, base = dn.lower(), "," + self._repo.basedn.lower()
        if lowered.endswith(base):
            head = lowered[: -len(base)].rsplit(",", 1)[-1]
            if head.startswith("domainname="):
                self._report.domains.add(head.split("=", 1)[1])
