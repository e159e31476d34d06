"""Removing kept mailboxes whose purge date has passed (`iredapi-ldap purge-mailboxes`)."""

import bisect
import datetime
import os
import shutil
from dataclasses import dataclass, field

from ..directory import Scope


@dataclass
class PurgeReport:
    removed: list = field(default_factory=list)   # paths removed (or, dry run, to remove)
    skipped: list = field(default_factory=list)   # (path, reason)


def purge_mailboxes(store, directory, layout, storage_base, dry_run=False, today=None,
                    progress=print):
    """Remove each due mailbox, then its deleted_mailboxes row.

    Never a path outside `storage_base` (after resolving links), and never a path that is,
    contains, or lies inside a live account's homeDirectory: an account restored from LDIF
    keeps its path, and a row may name a folder above other accounts' mailboxes.
    """
    report = PurgeReport()
    base = os.path.realpath(storage_base)
    rows = store.due_mailboxes(today or datetime.date.today())
    homes = _LiveHomes(directory, layout) if rows else None
    for row in rows:
        path = os.path.realpath(row["maildir"] or "")
        reason = _refusal(path, base, row["maildir"], homes)
        if reason:
            report.skipped.append((row["maildir"], reason))
            progress(f"skip   {row['maildir']}: {reason}")
            continue
        report.removed.append(path)
        progress(f"{'would remove' if dry_run else 'remove'} {path} ({row['username']})")
        if not dry_run:
            if os.path.isdir(path):
                shutil.rmtree(path)
            store.forget_deleted_mailbox(row["id"])
    return report


def _refusal(path, base, stored, homes):
    if not stored or os.path.commonpath([path, base]) != base or path == base:
        return f"outside STORAGE_BASE_DIRECTORY ({base})"
    owner = homes.overlapping(path)
    if owner is not None:
        return f"still the mailbox of {owner}, or a folder around or inside it"
    return None


class _LiveHomes:
    """Every live account's homeDirectory (links resolved), read once, sorted for prefix
    lookups. homeDirectory has no substring matching rule in its schema, so slapd cannot
    be asked which homes lie below a path."""

    def __init__(self, directory, layout):
        owners = {}
        for entry in directory.search(layout.basedn, "(homeDirectory=*)", Scope.SUB,
                                      ["homeDirectory", "mail"]):
            for home in entry.get("homeDirectory"):
                owners[os.path.realpath(home)] = str(entry.first("mail", entry.dn))
        self._owners = owners
        self._sorted = sorted(owners)

    def overlapping(self, path):
        """The owner of a live home that is `path`, lies below it or holds it; else None."""
        current = path
        while True:  # `path` itself, or a folder above it, is someone's home
            if current in self._owners:
                return self._owners[current]
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        below = path.rstrip("/") + "/"
        index = bisect.bisect_left(self._sorted, below)
        if index < len(self._sorted) and self._sorted[index].startswith(below):
            return self._owners[self._sorted[index]]
        return None
