"""Durable records of writes that span the directory and the SQL databases.

A delete or a rename commits in the directory (one atomic write), but the rest follows in
other stores: the references in other entries, the policy rows, iRedAdmin's
`deleted_mailboxes`. Before the commit the request writes an *intent* here, in iRedAdmin's
`tracking` table (a key-value store every API host shares), together with the
`deleted_mailboxes` rows it will need, marked as pending (no purge date, so
purge-mailboxes never acts on them). After the commit it completes the rest and *finishes*
the intent: the rows get their purge date and admin, and the intent goes, in one
transaction. If the request fails on the way, the intent stays, and a repeat of the request
or `iredapi-ldap doctor --fix` completes it (services/completions.py). An intent whose commit
did not happen is *discarded*, its pending rows with it.
"""

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update

from .tables import deleted_mailboxes, tracking

PREFIX = "iredapi-ldap:intent:"
RUNNING, FAILED = "running", "failed"


@dataclass
class Intent:
    """One unfinished write. `kind` says how to complete it, `subject` what it is about (an
    address, or `@domain`); `data` holds what completing needs."""

    key: str
    kind: str
    subject: str
    data: dict = field(default_factory=dict)
    state: str = RUNNING
    started: float = 0.0

    @property
    def marker(self):
        """What the pending deleted_mailboxes rows hold as `admin` until finished."""
        return "iredapi-ldap:" + self.key.rsplit(":", 1)[1]

    @property
    def age(self):
        return time.time() - self.started


def _key_prefix(subject):
    digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:24]
    return f"{PREFIX}{digest}:"


class Journal:
    """Intents in iRedAdmin's database (`databases`: an `engine.Databases`)."""

    def __init__(self, databases, clock=time.time):
        self._databases = databases
        self._clock = clock

    def begin(self, kind, subject, data, mailboxes=()):
        """Record an intent, and the deleted_mailboxes rows it will finish (dicts with
        username, domain, maildir), in one transaction. Returns the Intent."""
        intent = Intent(_key_prefix(subject) + uuid.uuid4().hex, kind, subject.lower(),
                        dict(data), RUNNING, self._clock())
        rows = [{**row, "admin": intent.marker, "delete_date": None} for row in mailboxes]

        def write(conn):
            conn.execute(insert(tracking).values(k=intent.key, v=_encode(intent)))
            if rows:
                conn.execute(insert(deleted_mailboxes), rows)
        self._databases.write("iredadmin", write)
        return intent

    def finish(self, intent, admin="", purge_date=None):
        """The intent is done: its pending rows get `admin` and their purge date (None:
        kept forever), and the intent goes. Idempotent."""
        def write(conn):
            conn.execute(update(deleted_mailboxes)
                         .where(deleted_mailboxes.c.admin == intent.marker)
                         .values(admin=admin, delete_date=purge_date))
            conn.execute(delete(tracking).where(tracking.c.k == intent.key))
        self._databases.write("iredadmin", write)

    def discard(self, intent):
        """The intent's commit did not happen: drop it and its pending rows."""
        def write(conn):
            conn.execute(delete(deleted_mailboxes)
                         .where(deleted_mailboxes.c.admin == intent.marker))
            conn.execute(delete(tracking).where(tracking.c.k == intent.key))
        self._databases.write("iredadmin", write)

    def fail(self, intent):
        """Its request gave up: a repeat of the request may now complete it."""
        intent.state = FAILED
        self._databases.write("iredadmin", lambda conn: conn.execute(
            update(tracking).where(tracking.c.k == intent.key).values(v=_encode(intent))))

    def pending(self, subject=None):
        """The unfinished intents (about `subject`, if given), oldest first."""
        prefix = _key_prefix(subject) if subject else PREFIX

        def read(conn):
            rows = conn.execute(select(tracking.c.k, tracking.c.v)
                                .where(tracking.c.k.startswith(prefix, autoescape=True))
                                .order_by(tracking.c.id))
            return [_decode(key, value) for key, value in rows]
        found = self._databases.read("iredadmin", read)
        return [i for i in found if i is not None and (subject is None
                                                       or i.subject == subject.lower())]

    def pending_usernames(self, intent):
        """The usernames of the intent's pending deleted_mailboxes rows."""
        def read(conn):
            return [row[0] for row in conn.execute(
                select(deleted_mailboxes.c.username)
                .where(deleted_mailboxes.c.admin == intent.marker))]
        return self._databases.read("iredadmin", read)


def _encode(intent):
    return json.dumps({"kind": intent.kind, "subject": intent.subject, "data": intent.data,
                       "state": intent.state, "started": intent.started})


def _decode(key, text):
    try:
        value = json.loads(text or "")
        return Intent(key, value["kind"], value["subject"], value.get("data", {}),
                      value.get("state", RUNNING), float(value.get("started", 0)))
    except (ValueError, KeyError, TypeError):
        return None  # not ours after all, or damaged: left alone
