"""Renaming an account (change_email), for users, aliases and lists alike.

The commit point is the modify-DN: only one of several racing renames of an account can
make it; the others find the account gone. Into another domain, room is reserved in the new
domain first and given back if the move is refused. What follows the commit (the account's
own attributes such as `uid` and its alias-domain twins, the old domain's count, the
references in other entries, a user's policy rows) is completed through an intent
(services/completions.py), so a failure after the commit is finished by a repeat of the
request or by `doctor --fix`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..addresses import domain_of
from ..directory import Change, Entry
from ..directory.names import parent_dn
from ..errors import Code, Conflict, DirectoryUnavailable, EntryExists, EntryNotFound, NotFound
from .repository import Repository

if TYPE_CHECKING:
    from ..errors import ApiError
    from ..model.params import Kind
    from .completions import Completions
    from .reservations import Reservations


class Mover:
    def __init__(self, repo: Repository, reservations: Reservations,
                 completions: Completions) -> None:
        self._repo = repo
        self._reservations = reservations
        self._completions = completions

    def finished_repeat(self, missing: ApiError, mail: str, new_mail: str, kind: Kind) -> bool:
        """Whether `missing` (NotFound for `mail`) answers a repeat of a rename of the
        `kind` to `new_mail` that failed half-way: then it is finished now."""
        return missing.code == Code.NO_SUCH_ACCOUNT.name and self._completions.prepare(
            mail, f"@{domain_of(mail)}", racing=[mail],
            done=lambda i: i.kind == f"rename_{kind.name}" and i.data.get("new") == new_mail)

    def move(self, entry: Entry, mail: str, new_mail: str, kind: Kind,
             changes: Sequence[Change], target: Entry, scope: Sequence[str] | None,
             quota: int = 0) -> str:
        """Rename the account of `kind` at `entry` from `mail` to `new_mail` (into the
        kind's container of the new domain when the domain changes), with its own attribute
        `changes` (REPLACE Changes) at the new DN. `target` is the new domain's entry (from
        `references.check_move`); `scope` the domains whose references follow (None: all);
        `quota` the bytes that move with a user."""
        new_domain, old_domain = domain_of(new_mail), domain_of(mail)
        new_rdn, new_dn = self._repo.rdn(kind, new_mail), self._repo.dn(kind, new_mail)
        moving = new_domain != old_domain
        superior = parent_dn(new_dn) if moving else None  # the kind's container there
        data = {"old": mail, "new": new_mail, "domains": sorted({old_domain, new_domain}),
                "changes": {c.attribute: list(c.values) for c in changes},
                "uuid": entry.first("entryUUID"), "scope": scope,
                "maildir": entry.first("homeDirectory")}

        def rename() -> None:
            if moving:
                self._reservations.reserve(new_domain, kind.name, quota=quota, entry=target)
            try:
                self._repo.directory.rename(entry.dn, new_rdn, superior)
            except DirectoryUnavailable:
                raise  # renamed or not: completing the intent finds out, and recounts
            except BaseException:
                if moving:
                    self._reservations.release(new_domain, kind.name, quota=quota)
                raise

        def commit() -> None:
            with _refused(kind.name, mail, new_mail):
                rename()

        def after() -> None:
            self._repo.directory.modify(new_dn, changes)
            if moving:
                self._reservations.release(old_domain, kind.name, quota=quota)
        self._completions.prepare(mail, new_mail, f"@{old_domain}", f"@{new_domain}",
                                  racing=[mail])
        self._completions.run(f"rename_{kind.name}", mail, data, commit, after=after,
                              also=[new_mail])
        return new_dn


@contextlib.contextmanager
def _refused(kind: str, mail: str, new_mail: str) -> Iterator[None]:
    """The directory's refusals of the rename of `mail` to `new_mail` as the API's errors."""
    try:
        yield
    except EntryNotFound:  # renamed or deleted by a racing request
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {kind} {mail}") from None
    except EntryExists:
        raise Conflict(detail=f"{new_mail} is already used") from None
