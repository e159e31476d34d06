"""Where a user's mailbox lives (homeDirectory): iRedAdmin's time-stamped path for a new
one, or a client's `maildir`, never a place another account's mail is or was kept.

Dovecot serves whatever lies below a user's homeDirectory, and `purge-mailboxes` removes
a deleted account's folder: a path that is, holds or lies inside another account's
mailbox (live, or kept after a delete) would hand that mail over, or purge it.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, NamedTuple

from ..addresses import domain_of
from ..directory import Scope, escape_filter_value
from ..errors import BadRequest, ConcurrentUpdate, Conflict
from ..model.maildir import checked_mailbox_path, enclosing_paths, fitting, maildir_path
from .repository import Repository

if TYPE_CHECKING:
    from ..config import Settings
    from ..policy.base import PolicyStore
    from .auth import Caller

NEW_HOME_ATTEMPTS = 60  # seconds later a new mailbox's time stamp may be


class Holder(NamedTuple):
    what: str     # "another account's mailbox", ...
    exact: bool   # the very path, not a folder above or below it


class Known(NamedTuple):
    """What is known of a mailbox path already: no entry has its mailbox at it or in a
    folder above it (a search for `holders_filter(path)` found nothing), and the maildir
    of a kept mailbox near it (`kept_mailbox_near`), or None."""

    path: str
    kept: str | None


class MailboxPaths:
    def __init__(self, repo: Repository, store: PolicyStore, settings: Settings) -> None:
        self._repo = repo
        self._store = store
        self._base = settings.storage_base_directory

    def home(self, caller: Caller, mail: str, maildir: str | None = None,
             own_dn: str | None = None) -> str:
        """The homeDirectory for `mail`: a new one (no `maildir`), or the client's
        `maildir`, inside the user's domain folder (a global admin: anywhere inside
        STORAGE_BASE_DIRECTORY) and outside the folders new mailboxes are made in.
        `own_dn`: the user's entry, whose own mailbox the path may be.

        Raises:
            BadRequest: `maildir` is no such path, or is, holds or lies inside another
                account's mailbox or a kept one.
        """
        if not maildir:
            return self._new(mail)
        path = checked_mailbox_path(self._base, domain_of(mail), maildir,
                                    anywhere_in_base=caller.is_global_admin)
        holder = self._holder(path, own_dn, inside=True)
        if holder:
            raise BadRequest(detail=f"maildir is, holds or lies inside {holder.what}")
        return path

    def first_new_home(self, mail: str) -> tuple[datetime.datetime, str]:
        """(the time a new mailbox of `mail` is stamped with, the first path `new_home`
        tries for it)."""
        now = datetime.datetime.now()
        return now, self._new_path(mail, now)

    def holders_filter(self, path: str) -> str:
        """The LDAP filter (below the domains' base) of the entries whose mailbox is
        `path` or a folder above it."""
        return "(|" + "".join(f"(homeDirectory={escape_filter_value(p)})"
                              for p in enclosing_paths(path, self._base)) + ")"

    def new_home(self, mail: str, now: datetime.datetime, known: Known | None = None) -> str:
        """`home` without `maildir`, stamped with `now`; `known`: what is known of the first
        path (`first_new_home(mail)` with this `now`) already."""
        return self._new(mail, now, known)

    def _new_path(self, mail: str, now: datetime.datetime, later: int = 0) -> str:
        return fitting(maildir_path(self._base, mail, now + datetime.timedelta(seconds=later)))

    def _new(self, mail: str, now: datetime.datetime | None = None,
             known: Known | None = None) -> str:
        """iRedAdmin's path, stamped with the time; a second later while that very path is
        taken (the address was deleted, its mailbox kept, and made again within the
        second)."""
        if now is None:
            now = datetime.datetime.now()
        for later in range(NEW_HOME_ATTEMPTS):
            path = self._new_path(mail, now, later)
            holder = self._holder(path, known=known if later == 0 else None)
            if holder is None:
                return path
            if not holder.exact:  # no later second gets out of a folder above it
                raise Conflict(detail=f"a new mailbox of {mail} would lie inside "
                                      f"{holder.what}; give a maildir")
        raise ConcurrentUpdate(detail=f"no free mailbox path for {mail}; try again")

    def _holder(self, path: str, own_dn: str | None = None,
                inside: bool = False, known: Known | None = None) -> Holder | None:
        """What has its mailbox at `path`, above it, or (`inside`) below it; or None.
        `known`: what is known of `path` already."""
        found = () if known is not None else self._repo.directory.search(
            self._repo.basedn, self.holders_filter(path), Scope.SUB, ["homeDirectory"])
        for entry in found:
            if own_dn is None or entry.dn.lower() != own_dn.lower():
                return Holder("another account's mailbox",
                              _same(entry.first("homeDirectory", ""), path))
        if inside and self._holds_a_mailbox(path, own_dn):
            return Holder("another account's mailbox", False)
        kept = known.kept if known is not None else self._kept_near(path)
        if kept is not None:
            return Holder("the kept mailbox of a deleted account", _same(kept, path))
        return None

    def _kept_near(self, path: str) -> str | None:
        row = self._store.kept_mailbox_near(path)
        return None if row is None else str(row["maildir"])

    def _holds_a_mailbox(self, path: str, own_dn: str | None) -> bool:
        """Whether another account's mailbox lies below `path`. homeDirectory has no
        substring matching rule (RFC 2307), so every home is read: only for a client's
        `maildir`, which is rare; new mailboxes never lie below one (checked_mailbox_path)."""
        prefix = path.rstrip("/") + "/"
        return any(
            str(entry.first("homeDirectory", "")).startswith(prefix)
            and (own_dn is None or entry.dn.lower() != own_dn.lower())
            for entry in self._repo.directory.search(self._repo.basedn, "(homeDirectory=*)",
                                                     Scope.SUB, ["homeDirectory"]))


def _same(stored: str, path: str) -> bool:
    return stored.rstrip("/") == path.rstrip("/")
