"""Removing kept mailboxes whose purge date has passed (`iredapi-ldap purge-mailboxes`)."""

import datetime
import os
import shutil
from dataclasses import dataclass, field

from ..directory import Scope, escape_filter_value


@dataclass
class PurgeReport:
    removed: list = field(default_factory=list)   # paths removed (or, dry run, to remove)
    skipped: list = field(default_factory=list)   # (path, reason)


def purge_mailboxes(store, directory, layout, storage_base, dry_run=False, today=None,
                    progress=print):
    """Remove each due mailbox, then its deleted_mailboxes row.

    Never a path outside `storage_base` (after resolving links), and never a mailbox that a
    live account's homeDirectory points at (an account restored from LDIF keeps its path).
    """
    report = PurgeReport()
    base = os.path.realpath(storage_base)
    for row in store.due_mailboxes(today or datetime.date.today()):
        path = os.path.realpath(row["maildir"] or "")
        reason = _refusal(path, base, row["maildir"], directory, layout)
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


def _refusal(path, base, stored, directory, layout):
    if not stored or os.path.commonpath([path, base]) != base or path == base:
        return f"outside STORAGE_BASE_DIRECTORY ({base})"
    variants = {stored, stored.rstrip("/"), stored.rstrip("/") + "/"}
    search = "(|" + "".join(f"(homeDirectory={escape_filter_value(v)})" for v in variants) + ")"
    owner = next(iter(directory.search(layout.basedn, search, Scope.SUB, ["mail"])), None)
    if owner is not None:
        return f"still the mailbox of {owner.first('mail')}"
    return None
