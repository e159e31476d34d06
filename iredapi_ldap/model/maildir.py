"""Mailbox paths as iRedAdmin makes them (iredutils.generate_maildir_path). Pure."""

import datetime


def maildir_path(base, mail, now=None):
    """`<base>/<domain>/<l>/<o>/<c>/<local>-<timestamp>/` for a new mailbox.

    The first three characters of the local part (padded with `_` when shorter; `.` and `~`
    replaced by `_`) spread mailboxes over directories; the timestamp keeps a re-created
    address from reusing an old mailbox.
    """
    local, domain = mail.lower().rsplit("@", 1)
    head = (local + "__")[:3].replace(".", "_").replace("~", "_")
    stamp = (now or datetime.datetime.now()).strftime("%Y.%m.%d.%H.%M.%S")
    return f"{base.rstrip('/')}/{domain}/{'/'.join(head)}/{local}-{stamp}/"
