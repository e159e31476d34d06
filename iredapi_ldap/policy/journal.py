"""Durable records of writes that span the directory and the SQL databases.

A delete or a rename commits in the directory (one atomic operation), but the rest follows in
other stores: the references in other entries, the policy rows, iRedAdmin's
`deleted_mailboxes`. Before the commit the request writes an *intent* here, in iRedAdmin's
`tracking` table (a key-value store every API host shares), together with the
`deleted_mailboxes` rows it will need, marked as pending (no purge date, so
purge-mailboxes never acts on them). After the commit it completes the rest and *finishes*
the intent: the rows get their purge date and admin, and the intent goes, in one
transaction. If the request fails on the way, it marks the intent *failed*, and a repeat of
the request or `iredapi-ldap doctor --fix` claims it and completes it
(services/completions.py). One request at a time works on an intent: its owner while it is
*running*, or whoever *claimed* it (an atomic compare-and-set of the row).
"""

import datetime
import functools
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    false,
    insert,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Connection

from . import kept
from .engine import LIKE_ESCAPE, Databases, like_prefix
from .tables import deleted_mailboxes, tracking

PREFIX = "iredapi-ldap:intent:"
PENDING_ADMIN = "iredapi-ldap:"  # deleted_mailboxes.admin of a row not yet finished
RUNNING, FAILED, CLAIMED = "running", "failed", "claimed"


@dataclass
class Intent:
    """One unfinished write. `kind` says how to complete it, `subject` what it is about (an
    address, or `@domain`); `data` holds what completing needs. `started` is when it began
    (its commit came right after), `since` when its state last changed (its owner began or
    gave up, or someone claimed it)."""

    key: str
    kind: str
    subject: str
    data: dict[str, Any] = field(default_factory=dict)
    state: str = RUNNING
    since: float = 0.0
    started: float = 0.0
    raw: str = ""  # the stored text, for compare-and-set

    @property
    def marker(self) -> str:
        """What the pending deleted_mailboxes rows hold as `admin` until finished."""
        return PENDING_ADMIN + self.key.rsplit(":", 1)[1]

    def age(self, now: Optional[float] = None) -> float:
        """Seconds since its state last changed."""
        return (now if now is not None else time.time()) - self.since

    def commit_age(self, now: Optional[float] = None) -> float:
        """Seconds since its commit was sent (at most)."""
        return (now if now is not None else time.time()) - self.started


def _key_prefix(subject: str) -> str:
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:24]
    return f"{PREFIX}{digest}:"


class Journal:
    """Intents in iRedAdmin's database (`databases`: an `engine.Databases`)."""

    def __init__(self, databases: Databases, clock: Callable[[], float] = time.time) -> None:
        self._databases = databases
        self._clock = clock

    def begin(self, kind: str, subject: str, data: Mapping[str, Any],
              mailboxes: Iterable[Mapping[str, Any]] = (), also: Iterable[str] = ()) -> Intent:
        """Record an intent, and the deleted_mailboxes rows it will finish (dicts with
        username, domain, maildir), in one transaction. `also`: other subjects it is about
        (a rename's new address), under which `pending()` finds it too. Returns it."""
        token = uuid.uuid4().hex
        others = [other.lower() for other in also]
        now = self._clock()
        intent = Intent(_key_prefix(subject) + token, kind, subject.lower(),
                        {**data, **({"also": others} if others else {})}, RUNNING, now, now)
        intent.raw = _encode(intent)
        rows = [{**row, "admin": intent.marker, "delete_date": None} for row in mailboxes]
        links = [{"k": _key_prefix(other) + token, "v": json.dumps({"link": intent.key})}
                 for other in others]

        def write(conn: Connection) -> None:
            conn.execute(insert(tracking).values(k=intent.key, v=intent.raw))
            if links:
                conn.execute(insert(tracking), links)
            if rows:
                conn.execute(insert(deleted_mailboxes), rows)
        self._databases.write("iredadmin", write)
        return intent

    def add_mailboxes(self, intent: Intent, mailboxes: Iterable[Mapping[str, Any]]) -> None:
        """More pending rows for the intent (users found when it completes)."""
        rows = [{**row, "admin": intent.marker, "delete_date": None} for row in mailboxes]
        if rows:
            self._databases.write("iredadmin", lambda conn: conn.execute(
                insert(deleted_mailboxes), rows))

    def finish(self, intent: Intent, admin: str = "",
               purge_date: Optional[datetime.date] = None) -> None:
        """The intent is done: its pending rows get `admin` and their purge date (None:
        kept forever), and the intent goes. A pending row whose mailbox another finished
        row records already (two writes that both deleted it) is dropped. Idempotent."""
        def write(conn: Connection) -> None:
            mine = conn.execute(select(deleted_mailboxes.c.id, deleted_mailboxes.c.username,
                                       deleted_mailboxes.c.maildir)
                                .where(deleted_mailboxes.c.admin == intent.marker)).all()
            recorded: set[Any] = set()
            if mine:  # by finished rows only: a pending one may never be
                names = sorted({row.username for row in mine})
                for start in range(0, len(names), 500):
                    recorded |= set(conn.execute(
                        select(deleted_mailboxes.c.username, deleted_mailboxes.c.maildir)
                        .where(and_(deleted_mailboxes.c.username.in_(names[start:start + 500]),
                                    ~deleted_mailboxes.c.admin.startswith(
                                        PENDING_ADMIN, autoescape=True)))).all())
            twice = [row.id for row in mine if (row.username, row.maildir) in recorded]
            for start in range(0, len(twice), 500):
                conn.execute(delete(deleted_mailboxes)
                             .where(deleted_mailboxes.c.id.in_(twice[start:start + 500])))
            conn.execute(update(deleted_mailboxes)
                         .where(deleted_mailboxes.c.admin == intent.marker)
                         .values(admin=admin, delete_date=purge_date))
            _forget(conn, intent)
        self._databases.write("iredadmin", write)

    def discard(self, intent: Intent) -> None:
        """The intent's commit did not happen: drop it and its pending rows."""
        def write(conn: Connection) -> None:
            conn.execute(delete(deleted_mailboxes)
                         .where(deleted_mailboxes.c.admin == intent.marker))
            _forget(conn, intent)
        self._databases.write("iredadmin", write)

    def fail(self, intent: Intent) -> None:
        """Its request gave up: a repeat of the request may now claim and complete it."""
        self._set_state(intent, FAILED)

    def claim(self, intent: Intent) -> bool:
        """Take the intent over (it is failed, or stale): True if no one else did first."""
        return self._set_state(intent, CLAIMED)

    def drop_pending(self, username: str, maildir: str) -> None:
        """Drop the pending rows of (username, maildir), whatever intent they belong to: the
        account lives on (renamed while its domain was being deleted)."""
        self._databases.write("iredadmin", lambda conn: conn.execute(
            delete(deleted_mailboxes).where(and_(
                deleted_mailboxes.c.username == username,
                deleted_mailboxes.c.maildir == maildir,
                deleted_mailboxes.c.admin.startswith(PENDING_ADMIN, autoescape=True)))))

    def _set_state(self, intent: Intent, state: str) -> bool:
        changed = Intent(intent.key, intent.kind, intent.subject, intent.data, state,
                         self._clock(), intent.started)
        text = _encode(changed)

        def write(conn: Connection) -> int:
            return conn.execute(update(tracking).where(and_(
                tracking.c.k == intent.key, tracking.c.v == intent.raw)).values(v=text)).rowcount
        if self._databases.write("iredadmin", write) != 1:
            return False
        intent.state, intent.since, intent.raw = state, changed.since, text
        return True

    def pending(self, *subjects: str) -> list[Intent]:
        """The unfinished intents (about any of `subjects`, if given), oldest first."""
        prefixes = _prefixes(subjects)
        rows = self._databases.read("iredadmin", lambda conn: _intent_rows(
            conn, conn.execute(_keys_starting(len(prefixes)), _prefix_values(prefixes))))
        return _intents(rows, subjects)

    def pending_and_kept(self, subjects: Sequence[str],
                         path: str) -> tuple[list[Intent], Optional[str]]:
        """(`pending(*subjects)`, the maildir of a deleted_mailboxes row near `path` as
        `kept_mailbox_near` finds it, or None), in one statement: a new account asks
        both."""
        prefixes = _prefixes(subjects)
        values = {**_prefix_values(prefixes), **kept.near_values(path)}

        def read(conn: Connection) -> tuple[list[tuple[int, str, str]], Optional[str]]:
            rows = conn.execute(_keys_starting_and_kept(len(prefixes)), values).all()
            near = next((name for is_kept, _, name, _ in rows if is_kept), None)
            return _intent_rows(conn, (row[1:] for row in rows if not row[0])), near
        rows, near = self._databases.read("iredadmin", read)
        return _intents(rows, subjects), near

    def pending_mailboxes(self, intent: Intent) -> list[tuple[str, str]]:
        """(username, maildir) of the intent's pending deleted_mailboxes rows."""
        def read(conn: Connection) -> list[tuple[str, str]]:
            return [tuple(row) for row in conn.execute(
                select(deleted_mailboxes.c.username, deleted_mailboxes.c.maildir)
                .where(deleted_mailboxes.c.admin == intent.marker))]
        return self._databases.read("iredadmin", read)

    def pending_usernames(self, intent: Intent) -> list[str]:
        """The usernames of the intent's pending deleted_mailboxes rows."""
        def read(conn: Connection) -> list[str]:
            return [row[0] for row in conn.execute(
                select(deleted_mailboxes.c.username)
                .where(deleted_mailboxes.c.admin == intent.marker))]
        return self._databases.read("iredadmin", read)


def _prefixes(subjects: Sequence[str]) -> list[str]:
    return [_key_prefix(s) for s in subjects] if subjects else [PREFIX]


def _prefix_values(prefixes: Sequence[str]) -> dict[str, str]:
    return {f"p{i}": like_prefix(prefix) for i, prefix in enumerate(prefixes)}


def _keys_like(count: int) -> ColumnElement[bool]:
    return or_(*(tracking.c.k.like(bindparam(f"p{i}"), escape=LIKE_ESCAPE)
                 for i in range(count)))


@functools.lru_cache(maxsize=8)
def _keys_starting(count: int) -> Select[int, str, str]:
    """The tracking rows whose keys start with one of `count` prefixes (bound as LIKE
    patterns p0, p1, ...): built once per count, not per call."""
    return select(tracking.c.id, tracking.c.k, tracking.c.v).where(_keys_like(count))


@functools.lru_cache(maxsize=8)
def _keys_starting_and_kept(count: int) -> CompoundSelect[bool, int, str, Optional[str]]:
    """(False, id, k, v) of `_keys_starting(count)`'s rows, then (True, id, maildir, NULL)
    of the deleted_mailboxes rows near a path (kept.NEAR's values bound)."""
    return union_all(
        select(false().label("is_kept"), tracking.c.id, tracking.c.k.label("name"),
               tracking.c.v).where(_keys_like(count)),
        select(true(), deleted_mailboxes.c.id, deleted_mailboxes.c.maildir,
               cast(null(), Text)).where(kept.NEAR))


def _intent_rows(conn: Connection,
                 rows: Iterable[Sequence[Any]]) -> list[tuple[int, str, str]]:
    """(id, key, value) of the intents among tracking `rows` (id, k, v), a link row
    followed to the intent it stands for, oldest first."""
    found: dict[str, tuple[int, str]] = {}
    for row_id, key, value in list(rows):
        main = _link(value)
        if main is None:
            found[key] = (row_id, value)
        elif main not in found:  # about the subject too: the intent itself
            hit = conn.execute(_BY_KEY, {"k": main}).first()
            if hit is not None:
                found[main] = tuple(hit)
    return sorted(((row_id, key, value) for key, (row_id, value) in found.items()))


def _intents(rows: Iterable[tuple[int, str, str]], subjects: Sequence[str]) -> list[Intent]:
    """The intents of `rows` about `subjects` (all, if none): a key's hash prefix may be
    another subject's too."""
    wanted = {s.lower() for s in subjects}
    intents = [_decode(key, value) for _, key, value in rows]
    return [i for i in intents if i is not None and (
        not wanted or i.subject in wanted or wanted & set(i.data.get("also", [])))]


_BY_KEY = select(tracking.c.id, tracking.c.v).where(tracking.c.k == bindparam("k"))


def _forget(conn: Connection, intent: Intent) -> None:
    """Delete the intent's row and the rows that link other subjects to it."""
    token = intent.key.rsplit(":", 1)[1]
    conn.execute(delete(tracking).where(tracking.c.k == intent.key))
    for other in intent.data.get("also", []):
        conn.execute(delete(tracking).where(tracking.c.k == _key_prefix(other) + token))


def _link(text: Optional[str]) -> Optional[str]:
    """The main key a link row points to, or None for an intent's own row."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value.get("link") if isinstance(value, dict) else None


def _encode(intent: Intent) -> str:
    return json.dumps({"kind": intent.kind, "subject": intent.subject, "data": intent.data,
                       "state": intent.state, "since": intent.since,
                       "started": intent.started}, sort_keys=True)


def _decode(key: str, text: str) -> Optional[Intent]:
    try:
        value = json.loads(text or "")
        since = float(value.get("since", 0))
        return Intent(key, value["kind"], value["subject"], value.get("data", {}),
                      value.get("state", RUNNING), since, float(value.get("started", since)),
                      text)
    except (ValueError, KeyError, TypeError):
        return None  # not ours after all, or damaged: left alone
