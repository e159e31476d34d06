"""Renaming an account (change_email), for users, aliases and lists alike.

The commit point is the modify-DN: only one of several racing renames of an account can
make it; the others find the account gone. Into another domain, room is reserved in the new
domain first and given back if the move is refused. What follows the commit (the account's
own attributes such as `uid` and its alias-domain twins, the old domain's count, the
references in other entries, a user's policy rows) is completed through an intent
(services/completions.py), so a failure after the commit is finished by a repeat of the
request or by `doctor --fix`.
"""

import contextlib

from ..addresses import domain_of
from ..directory import escape_dn_value
from ..directory.names import parent_dn
from ..errors import Code, Conflict, DirectoryUnavailable, EntryExists, EntryNotFound, NotFound


class Mover:
    def __init__(self, directory, layout, reservations, completions):
        self._directory = directory
        self._layout = layout
        self._reservations = reservations
        self._completions = completions

    def finished_repeat(self, missing, mail, new_mail, kind):
        """Whether `missing` (NotFound for `mail`) answers a repeat of a rename of the
        `kind` to `new_mail` that failed half-way: then it is finished now."""
        return missing.code == Code.NO_SUCH_ACCOUNT.name and self._completions.prepare(
            mail, f"@{domain_of(mail)}", racing=[mail],
            done=lambda i: i.kind == f"rename_{kind}" and i.data.get("new") == new_mail)

    def move(self, entry, mail, new_mail, container, kind, changes, target, scope, quota=0):
        """Rename the account at `entry` from `mail` to `new_mail` (into `container` of the
        new domain when the domain changes), with its own attribute `changes` (REPLACE
        Changes) at the new DN. `target` is the new domain's entry (from
        `references.check_move`); `scope` the domains whose references follow (None: all);
        `quota` the bytes that move with a user."""
        new_domain, old_domain = domain_of(new_mail), domain_of(mail)
        new_rdn = f"mail={escape_dn_value(new_mail)}"
        moving = new_domain != old_domain
        superior = self._layout.container_dn(new_domain, container) if moving else None
        new_dn = f"{new_rdn},{superior or parent_dn(entry.dn)}"
        data = {"old": mail, "new": new_mail, "domains": sorted({old_domain, new_domain}),
                "changes": {c.attribute: list(c.values) for c in changes},
                "uuid": entry.first("entryUUID"), "scope": scope,
                "maildir": entry.first("homeDirectory")}

        def rename():
            if moving:
                self._reservations.reserve(new_domain, kind, quota=quota, entry=target)
            try:
                self._directory.rename(entry.dn, new_rdn, superior)
            except DirectoryUnavailable:
                raise  # renamed or not: completing the intent finds out, and recounts
            except BaseException:
                if moving:
                    self._reservations.release(new_domain, kind, quota=quota)
                raise

        def commit():
            with _refused(kind, mail, new_mail):
                rename()

        def after():
            self._directory.modify(new_dn, changes)
            if moving:
                self._reservations.release(old_domain, kind, quota=quota)
        self._completions.prepare(mail, new_mail, f"@{old_domain}", f"@{new_domain}",
                                  racing=[mail])
        self._completions.run(f"rename_{kind}", mail, data, commit, after=after,
                              also=[new_mail])
        return new_dn


@contextlib.contextmanager
def _refused(kind, mail, new_mail):
    """The directory's refusals of the rename of `mail` to `new_mail` as the API's errors."""
    try:
        yield
    except EntryNotFound:  # renamed or deleted by a racing request
        raise NotFound(Code.NO_SUCH_ACCOUNT, detail=f"no {kind} {mail}") from None
    except EntryExists:
        raise Conflict(detail=f"{new_mail} is already used") from None
