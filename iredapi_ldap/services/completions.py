"""Writes with one commit point, and completing what followed it (policy/journal.py).

`run()` is how a delete or a rename is done: record the intent, commit in the directory
(one atomic operation), then do the rest. A request that fails after the commit leaves its
intent behind, and `settle()` (a repeat of the request, or a create of the same address)
or `settle_all()` (`doctor --fix`) completes it: it first looks at the directory to see
whether the commit happened (a request may have died with the answer of its commit lost),
then either completes the rest (the account's own attributes after a rename, references in
other entries, policy rows, deleted_mailboxes, the domains' counters, recounted) or discards
the intent. Completing is idempotent, so several of them may run at once.
"""

import datetime
import logging
from dataclasses import dataclass, field

from ..addresses import domain_of
from ..directory import Change, Op, Scope, escape_dn_value
from ..errors import DirectoryUnavailable, EntryNotFound
from ..policy.journal import FAILED
from . import counters, references
from .counters import USERS

log = logging.getLogger(__name__)

CONTAINERS = {"user": "Users", "alias": "Aliases", "list": "Groups"}


@dataclass
class CompletionReport:
    completed: list = field(default_factory=list)   # intents completed
    discarded: list = field(default_factory=list)   # intents whose commit never happened
    waiting: list = field(default_factory=list)     # may still be committed by their request


class Completions:
    def __init__(self, directory, layout, store, journal):
        self._directory = directory
        self._layout = layout
        self._store = store
        self._journal = journal

    # -- doing a write ------------------------------------------------------------------

    def run(self, kind, subject, data, commit, after=None, mailboxes=()):
        """Record the intent, run `commit()` (the one directory operation that decides
        whether the write happened), then `after()` (the owner's cheap follow-ups, such as
        its counters) and complete.

        A directory that refused the commit leaves nothing; one that could not answer
        leaves the intent for a repeat or doctor to settle; a failure after the commit
        leaves it for them to complete. `data` holds what completing needs: `domains`
        (whose counters are recounted when someone else completes), and per kind `mail`
        and `maildir`, or `old`, `new` and the account's own `changes`.
        """
        intent = self._journal.begin(kind, subject, data, mailboxes)
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
    def _quietly(action, intent):
        try:
            action(intent)
        except Exception as exc:  # the database is down too: doctor --fix settles it
            log.error("could not record the state of %s %s: %s", intent.kind,
                      intent.subject, exc)

    # -- settling unfinished writes -----------------------------------------------------

    def settle(self, subject, kinds, for_create=False):
        """Settle the unfinished writes about `subject` before a request acts on it;
        returns whether one of `kinds` was completed.

        A request that finds its target gone completes the writes whose request gave up
        (a repeat of a failed request). A create also completes writes already committed
        but not finished (a new account must not inherit a deleted one's policies).
        Writes whose request may still be running are left to it.
        """
        done = False
        for intent in self._journal.pending(subject):
            if intent.state != FAILED and not for_create:
                continue
            committed = self._committed(intent)
            if committed:
                self._complete(intent, recount=True)
                done = done or intent.kind in kinds
            elif intent.state == FAILED:
                self._discard(intent)
        return done

    def settle_all(self, grace):
        """Every unfinished write (doctor --fix): completed when committed; discarded when
        not, if its request gave up or it is older than `grace` seconds."""
        report = CompletionReport()
        for intent in self._journal.pending():
            if self._committed(intent):
                self._complete(intent, recount=True)
                report.completed.append(intent)
            elif intent.state == FAILED or intent.age >= grace:
                self._discard(intent)
                report.discarded.append(intent)
            else:
                report.waiting.append(intent)
        return report

    # -- per kind -----------------------------------------------------------------------

    def _committed(self, intent):
        data = intent.data
        if intent.kind == "delete_domain":
            return True  # begun is committed: a half-deleted domain is deleted to the end
        if intent.kind.startswith("delete_"):
            entry = self._directory.get(self._dn(intent.kind, data["mail"]), ["homeDirectory"])
            return entry is None or (data.get("maildir") is not None
                                     and entry.first("homeDirectory") != data["maildir"])
        return (self._directory.get(self._dn(intent.kind, data["old"]), ["1.1"]) is None
                and self._directory.get(self._dn(intent.kind, data["new"]), ["1.1"])
                is not None)

    def _complete(self, intent, recount=False):
        data = intent.data
        if intent.kind == "delete_domain":
            self._complete_domain_delete(intent)
        elif intent.kind.startswith("delete_"):
            if intent.kind == "delete_list":
                self._delete_if_there(self._externals_dn(data["mail"]))
            references.forget_address(self._directory, self._layout, data["mail"])
            if intent.kind == "delete_user":
                self._store.forget_accounts([data["mail"]])
        else:
            changes = [Change(name, Op.REPLACE, tuple(values))
                       for name, values in data.get("changes", {}).items()]
            if changes and recount:  # the owner applied them; a failed request may not have
                self._directory.modify(self._dn(intent.kind, data["new"]), changes)
            references.rename_address(self._directory, self._layout, data["old"], data["new"])
            if intent.kind == "rename_user":
                self._store.rename_account(data["old"], data["new"], again=recount)
        if recount:
            self._recount(intent)
        purge = datetime.date.fromisoformat(data["purge"]) if data.get("purge") else None
        self._journal.finish(intent, admin=data.get("admin", ""), purge_date=purge)

    def _discard(self, intent):
        self._recount(intent)  # a reservation made before the commit may be stranded
        self._journal.discard(intent)

    def _recount(self, intent):
        for domain in intent.data.get("domains", []):
            counters.recount(self._directory, self._layout, domain)

    def _complete_domain_delete(self, intent):
        domain = intent.data["domain"]
        references.forget_domain(self._directory, self._layout, domain)
        self._directory.delete(self._layout.domain_dn(domain), subtree=True)
        self._store.forget_accounts([f"@{domain}", *self._journal.pending_usernames(intent)])

    def _delete_if_there(self, dn):
        try:
            self._directory.delete(dn)
        except EntryNotFound:
            pass

    def _dn(self, kind, mail):
        """The DN of the account an intent of `kind` (delete_user, rename_alias, ...) is
        about."""
        container = CONTAINERS[kind.split("_", 1)[1]]
        return (f"mail={escape_dn_value(mail)},"
                f"{self._layout.container_dn(domain_of(mail), container)}")

    def _externals_dn(self, mail):
        return (f"memberOfGroup={escape_dn_value(mail)},"
                f"{self._layout.container_dn(domain_of(mail), 'Externals')}")


def users_mailboxes(directory, layout, domain):
    """deleted_mailboxes rows for every user of the domain (streamed from a paged search;
    none when the domain has no ou=Users)."""
    try:
        for user in directory.search(layout.container_dn(domain, "Users"), USERS, Scope.ONE,
                                     ["mail", "homeDirectory"]):
            yield {"username": str(user.first("mail", "")).lower(), "domain": domain,
                   "maildir": user.first("homeDirectory", "")}
    except EntryNotFound:
        return
