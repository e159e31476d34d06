"""Removing kept mailboxes whose purge date has passed (`iredapi-ldap purge-mailboxes`)."""

from __future__ import annotations

import bisect
import datetime
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..directory import Scope

if TYPE_CHECKING:
    from ..policy.base import PolicyStore
    from .repository import Repository


@dataclass
class PurgeReport:
    removed: list[str] = field(default_factory=list)   # paths removed (or, dry run, to remove)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (path, reason)


def purge_mailboxes(store: PolicyStore, repo: Repository, storage_base: str,
                    dry_run: bool = False, today: datetime.date | None = None,
                    progress: Callable[[str], object] = print) -> PurgeReport:
    """Remove each due mailbox, then its deleted_mailboxes row.

    Never a path outside `storage_base` (after resolving links), and never a path that is,
    contains, or lies inside a live account's homeDirectory (an account restored from LDIF
    keeps its path, and a row may name a folder above other accounts' mailboxes), nor a
    mailbox another row keeps longer (a user made at a deleted one's path and deleted again
    must not shorten the first one's keeping).
    """
    report = PurgeReport()
    base = os.path.realpath(storage_base)
    today = today or datetime.date.today()
    rows = store.due_mailboxes(today)
    guards = [_live_homes(repo), _kept_mailboxes(store, today)] if rows else []
    for row in rows:
        path = os.path.realpath(row["maildir"] or "")
        reason = _refusal(path, base, row["maildir"], guards)
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


def _refusal(path: str, base: str, stored: str | None,
             guards: Sequence[_Paths]) -> str | None:
    if not stored or os.path.commonpath([path, base]) != base or path == base:
        return f"outside STORAGE_BASE_DIRECTORY ({base})"
    for guard in guards:
        reason = guard.overlapping(path)
        if reason is not None:
            return reason
    return None


def _live_homes(repo: Repository) -> _Paths:
    """Every live account's homeDirectory (homeDirectory has no substring matching rule in
    its schema, so slapd cannot be asked which homes lie below a path)."""
    owners: dict[str, str] = {}
    for entry in repo.directory.search(repo.basedn, "(homeDirectory=*)", Scope.SUB,
                                       ["homeDirectory", "mail"]):
        for home in entry.get("homeDirectory"):
            owners[os.path.realpath(home)] = (
                f"still the mailbox of {entry.first('mail', entry.dn)}, or a folder around "
                "or inside it")
    return _Paths(owners)


def _kept_mailboxes(store: PolicyStore, today: datetime.date) -> _Paths:
    """The mailboxes deleted_mailboxes keeps beyond today (or for ever, or still pending)."""
    return _Paths({os.path.realpath(row["maildir"]): (
        f"kept for {row['username']} until {row['delete_date'] or 'ever'}")
        for row in store.deleted_mailboxes() if row["maildir"]
        and (row["delete_date"] is None or row["delete_date"] > today)})


class _Paths:
    """Paths (links resolved), each with why it must stay, sorted for prefix lookups."""

    def __init__(self, reasons: Mapping[str, str]) -> None:
        self._reasons = reasons
        self._sorted = sorted(reasons)

    def overlapping(self, path: str) -> str | None:
        """Why a path that is `path`, lies above it or below it must stay; else None."""
        current = path
        while True:
            if current in self._reasons:
                return self._reasons[current]
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        below = path.rstrip("/") + "/"
        index = bisect.bisect_left(self._sorted, below)
        if index < len(self._sorted) and self._sorted[index].startswith(below):
            return self._reasons[self._sorted[index]]
        return None
