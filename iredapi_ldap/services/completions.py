"""Writes with one commit point, and completing what followed it (policy/journal.py).

`run()` is how a delete or a rename is done: record the intent, commit in the directory
(one atomic operation), then do the rest. `prepare()` comes first in every write of an
account or a domain: an unfinished write about the same address or domain that another
request is working on makes it wait (CONCURRENT_UPDATE), and one whose request gave up is
claimed and settled first. Settling looks at the directory to see whether the commit
happened (by the account's entryUUID, not its name: the address may have moved on or been
taken again), then completes the rest (the account's own attributes after a rename,
references in other entries, policy rows, deleted_mailboxes, the domains' counters) or
discards the intent. `settle_all()` is `doctor --fix`. Only one request works on an intent
at a time (its owner, or whoever claimed it), and every step of completing is idempotent.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..directory import (
    Change,
    Op,
    Scope,
    escape_filter_value,
    still_holding,
)
from ..directory.names import dn_depth
from ..errors import ConcurrentUpdate, DirectoryUnavailable, EntryHasChildren, EntryNotFound
from ..model.kinds import COUNTED, EXTERNALS, USER
from ..policy.journal import CLAIMED, RUNNING
from . import counters, references
from .counters import USERS
from .repository import Repository

if TYPE_CHECKING:
    from ..policy.base import PolicyStore
    from ..policy.journal import Intent, Journal

log = logging.getLogger(__name__)

# How long a request may work on an intent before it is taken for abandoned (its worker
# died): gunicorn's worker timeout (server.DEFAULT_TIMEOUT).
BUSY = 300.0
COMPLETED, DISCARDED, WAITING = "completed", "discarded", "waiting"

_T = TypeVar("_T")


@dataclass
class CompletionReport:
    completed: list[Intent] = field(default_factory=list)   # intents completed
    discarded: list[Intent] = field(default_factory=list)   # intents whose commit never happened
    waiting: list[Intent] = field(default_factory=list)     # may still be worked on by a request


class Completions:
    def __init__(self, repo: Repository, store: PolicyStore, journal: Journal,
                 landing: float, busy: float = BUSY) -> None:
        """`landing`: how long an LDAP write whose answer was lost may still be carried
        out by slapd (LDAP_TIMEOUT); `busy`: how long a request may work on an intent."""
        self._repo = repo
        self._store = store
        self._journal = journal
        self._landing = landing
        self._busy = busy

    # -- doing a write ------------------------------------------------------------------

    def run(self, kind: str, subject: str, data: Mapping[str, Any], commit: Callable[[], _T],
            after: Callable[[], None] | None = None,
            mailboxes: Iterable[Mapping[str, Any]] = (), also: Iterable[str] = ()) -> _T:
        """Record the intent, run `commit()` (the one directory operation that decides
        whether the write happened), then `after()` (the owner's cheap follow-ups, such as
        its counters) and complete.

        A directory that refused the commit leaves nothing; one that could not answer, or
        a failure after the commit, leaves the intent marked failed for a repeat or doctor
        to settle. `data` holds what completing needs: `uuid` (the entryUUID of the account
        or domain), `domains` (whose counters a later completion recounts), `scope` (the
        domains whose entries may be edited, a normal admin's; None: all), and per kind
        `mail` and `maildir`, or `old`, `new` and the account's own `changes`.
        """
        intent = self._journal.begin(kind, subject, data, mailboxes, also)
        try:
            result = commit()
        except DirectoryUnavailable:
            self._quietly(self._journal.fail, intent)  # committed or not: unknown
            raise
        except BaseException:
            self._quietly(self._journal.discard, intent)
            raise
        try:
            if after is not None:
                after()
            self._complete(intent)
        except BaseException:
            self._quietly(self._journal.fail, intent)
            raise
        return result

    @staticmethod
    def _quietly(action: Callable[[Intent], None], intent: Intent) -> None:
        try:
            action(intent)
        except Exception as exc:  # the database is down too: doctor --fix settles it
            log.error("could not record the state of %s %s: %s", intent.kind,
                      intent.subject, exc)

    # -- settling unfinished writes -----------------------------------------------------

    def pending(self, *subjects: str) -> list[Intent]:
        """The unfinished writes about `subjects`."""
        return self._journal.pending(*subjects)

    def pending_and_kept(self, subjects: Sequence[str],
                         path: str) -> tuple[list[Intent], str | None]:
        """(`pending(*subjects)`, the maildir of a kept mailbox at, above or inside `path`,
        or None), read at once: what a new account asks (policy/journal.py)."""
        return self._journal.pending_and_kept(subjects, path)

    def prepare(self, *subjects: str, done: Callable[[Intent], bool] | None = None,
                racing: Iterable[str] = (), pending: list[Intent] | None = None) -> bool:
        """Before a write about `subjects` (addresses, `@domain`): settle their unfinished
        writes (`pending`: as `pending(*subjects)` has just read them, else read here).
        Returns whether one that `done(intent)` accepts was completed (a repeat of a
        request that failed half-way, which this completes).

        Another request's write in progress makes this one wait, unless it is about one of
        `racing`: the account a delete or a rename acts on, where the directory decides
        which of racing requests wins (the others find the account gone).

        Raises:
            ConcurrentUpdate: another request is working on one of them (or a write whose
                answer was lost may still land): try again.
        """
        satisfied = False
        racing = {subject.lower() for subject in racing}
        for intent in self._journal.pending(*subjects) if pending is None else pending:
            if intent.state in (RUNNING, CLAIMED) and intent.age() < self._busy:
                if intent.subject in racing:
                    continue
                raise ConcurrentUpdate(detail=f"{intent.subject} is being changed by another "
                                              "request; try again")
            if not self._journal.claim(intent):
                raise ConcurrentUpdate(detail=f"{intent.subject} is being changed by another "
                                              "request; try again")
            outcome = self._settle(intent, intent.commit_age() >= self._landing)
            if outcome == WAITING:
                raise ConcurrentUpdate(detail=f"an earlier change of {intent.subject} may "
                                              "still be under way; try again in a minute")
            satisfied = satisfied or (outcome == COMPLETED and done is not None
                                      and done(intent))
        return satisfied

    def settle_all(self, grace: float) -> CompletionReport:
        """Every unfinished write (doctor --fix): completed when committed; discarded when
        not, once `grace` seconds have passed since its request last worked on it."""
        report = CompletionReport()
        for intent in self._journal.pending():
            if intent.state in (RUNNING, CLAIMED) and intent.age() < grace \
                    or not self._journal.claim(intent):
                report.waiting.append(intent)
                continue
            settled = intent.commit_age() >= max(grace, self._landing)
            {COMPLETED: report.completed, DISCARDED: report.discarded,
             WAITING: report.waiting}[self._settle(intent, settled)].append(intent)
        return report

    def _settle(self, intent: Intent, settled: bool) -> str:
        """Complete a claimed intent if its commit happened, discard it if not and its
        outcome is `settled` (no lost write can still land); else leave it, failed
        again. A failure on the way leaves it failed, for the next one to claim."""
        try:
            if self._committed(intent):
                self._complete(intent, by_another=True)
                return COMPLETED
            if settled:
                self._recount(intent)  # a reservation made before the commit: stranded?
                self._journal.discard(intent)
                return DISCARDED
        except BaseException:
            self._quietly(self._journal.fail, intent)
            raise
        self._journal.fail(intent)
        return WAITING

    # -- per kind -----------------------------------------------------------------------

    def _committed(self, intent: Intent) -> bool:
        data = intent.data
        if intent.kind == "delete_domain":
            return True  # begun is committed: a half-deleted domain is deleted to the end
        where = self._where(data.get("uuid"))
        if intent.kind.startswith("delete_"):
            return where is None
        # A rename happened when the entry has left its old name (to the new one, or on).
        return where is None or where.lower() != self._dn(intent.kind, data["old"]).lower()

    def _where(self, uuid: str | None) -> str | None:
        """The DN of the entry with this entryUUID, or None."""
        if not uuid:
            return None
        found = self._repo.directory.search(self._repo.basedn,
                                            f"(entryUUID={escape_filter_value(uuid)})", Scope.SUB,
                                            ["1.1"])
        first = next(iter(found), None)
        return None if first is None else first.dn

    def _complete(self, intent: Intent, by_another: bool = False) -> None:
        data = intent.data
        if intent.kind == "delete_domain":
            self._complete_domain_delete(intent)
        elif intent.kind.startswith("delete_"):
            if intent.kind == "delete_list":
                self._delete_if_there(self._externals_dn(data["mail"]))
            references.forget_address(self._repo, data["mail"], data.get("scope"))
            if intent.kind == "delete_user":
                self._store.forget_accounts([data["mail"]])
        else:
            self._complete_rename(intent, by_another)
        if by_another:
            self._recount(intent)
        purge = datetime.date.fromisoformat(data["purge"]) if data.get("purge") else None
        self._journal.finish(intent, admin=data.get("admin", ""), purge_date=purge)

    def _complete_rename(self, intent: Intent, by_another: bool) -> None:
        data = intent.data
        old, new = data["old"], data["new"]
        if by_another:  # where the account is now: at `new`, or renamed on, or gone
            where = self._where(data.get("uuid"))
            entry = None if where is None else self._repo.directory.get(where, ["mail"])
            # Renamed, then deleted: nothing may point at the old address. (`entry` is None
            # whenever `where` is; `where` is tested too for mypy.)
            if where is None or entry is None:
                references.forget_address(self._repo, old, data.get("scope"))
                if intent.kind == "rename_user":
                    self._store.forget_accounts([old])
                return
            changes = [Change(name, Op.REPLACE, tuple(values))
                       for name, values in data.get("changes", {}).items()]
            if changes and where.lower() == self._dn(intent.kind, new).lower():
                self._repo.directory.modify(where, changes)  # the owner may not have, before
            new = str(entry.first("mail", new)).lower()
        references.rename_address(self._repo, old, new, data.get("scope"))
        if intent.kind == "rename_user":
            self._store.rename_account(old, new)
            if data.get("maildir"):  # a delete of its old domain may have counted it gone
                self._journal.drop_pending(old, data["maildir"])

    def _recount(self, intent: Intent) -> None:
        for domain in intent.data.get("domains", []):
            counters.recount(self._repo, domain, lower=False)

    def _complete_domain_delete(self, intent: Intent, attempts: int = 5) -> None:
        domain = intent.data["domain"]
        dn = self._repo.domain_dn(domain)
        entry = self._repo.directory.get(dn, ["entryUUID"])
        if entry is not None and entry.first("entryUUID") != intent.data.get("uuid"):
            return  # another domain of the name, made since by another tool: not ours
        scope = intent.data.get("scope")
        references.forget_domain(self._repo, domain, scope)
        for _ in range(attempts):
            if self._delete_what_is_there(intent, dn):
                break
        else:
            raise ConcurrentUpdate(detail=f"{domain} keeps getting new entries; try again")
        # Once more: a request may have named an address of the domain meanwhile.
        references.forget_domain(self._repo, domain, scope)
        self._store.forget_accounts([f"@{domain}", *self._journal.pending_usernames(intent)])

    def _delete_what_is_there(self, intent: Intent, dn: str) -> bool:
        """Delete every entry below and at `dn`, children first, each user's mailbox
        recorded (pending) before its entry goes, and each user as it was recorded; True
        once nothing is left. An entry a racing request added or changed meanwhile: one
        more round. A user a racing rename moved out of the domain lives on: its mailbox
        is not recorded, its policies stay."""
        try:
            entries = list(self._repo.directory.search(
                dn, "(objectClass=*)", Scope.SUB,
                ["objectClass", "mail", "homeDirectory", "entryUUID"]))
        except EntryNotFound:
            return True
        known = set(self._journal.pending_mailboxes(intent))
        domain = intent.data["domain"]
        users = [e for e in entries if e.has_value("objectClass", USER.marker)
                 and e.first("homeDirectory")]
        self._journal.add_mailboxes(intent, [
            {"username": str(e.first("mail")).lower(), "domain": domain,
             "maildir": e.first("homeDirectory")} for e in users
            if (str(e.first("mail")).lower(), e.first("homeDirectory")) not in known])
        user_dns = {e.dn.lower() for e in users}
        for found in sorted(entries, key=lambda e: dn_depth(e.dn), reverse=True):
            user = found.dn.lower() in user_dns
            try:
                self._repo.directory.delete(found.dn, assertion=still_holding(
                    found, ("homeDirectory",)) if user else None)
            except EntryNotFound:
                if user and self._where(found.first("entryUUID")) is not None:
                    self._journal.drop_pending(str(found.first("mail")).lower(),
                                               found.first("homeDirectory"))
            except (ConcurrentUpdate, EntryHasChildren):  # changed meanwhile
                return False
        return True

    def _delete_if_there(self, dn: str) -> None:
        try:
            self._repo.directory.delete(dn)
        except EntryNotFound:
            pass

    def _dn(self, kind: str, mail: str) -> str:
        """The DN of the account an intent of `kind` (delete_user, rename_alias, ...) is
        about."""
        return self._repo.dn(COUNTED[kind.split("_", 1)[1]], mail)

    def _externals_dn(self, mail: str) -> str:
        return self._repo.dn(EXTERNALS, mail)


def users_mailboxes(repo: Repository, domain: str) -> Iterator[dict[str, str]]:
    """deleted_mailboxes rows for every user of the domain (streamed from a paged search;
    none when the domain has no ou=Users)."""
    try:
        for user in repo.directory.search(repo.container_dn(domain, USER), USERS,
                                          Scope.ONE, ["mail", "homeDirectory"]):
            yield {"username": str(user.first("mail", "")).lower(), "domain": domain,
                   "maildir": user.first("homeDirectory", "")}
    except EntryNotFound:
        return
