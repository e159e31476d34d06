"""Mailbox paths as iRedAdmin makes them (iredutils.generate_maildir_path), and the checks
of a path a client gives. Pure, but for resolving symbolic links this host can see."""

import datetime
import os
import re

from ..errors import BadRequest


def maildir_path(base: str, mail: str, now: datetime.datetime | None = None) -> str:
    """`<base>/<domain>/<l>/<o>/<c>/<local>-<timestamp>/` for a new mailbox.

    The first three characters of the local part (padded with `_` when shorter; `.` and `~`
    replaced by `_`) spread mailboxes over directories; the timestamp keeps a re-created
    address from reusing an old mailbox.
    """
    local, domain = mail.lower().rsplit("@", 1)
    head = (local + "__")[:3].replace(".", "_").replace("~", "_")
    stamp = (now or datetime.datetime.now()).strftime("%Y.%m.%d.%H.%M.%S")
    return f"{base.rstrip('/')}/{domain}/{'/'.join(head)}/{local}-{stamp}/"


MAX_PATH_LENGTH = 255  # iRedAdmin's deleted_mailboxes.maildir is VARCHAR(255)
_PATH_CHARACTERS = re.compile(r"[a-z0-9/._@+-]+")


def checked_mailbox_path(base: str, domain: str, text: str,
                         anywhere_in_base: bool = False) -> str:
    """A client's `maildir` as it is stored, or BadRequest.

    The path must be absolute and lie strictly inside `<base>/<domain>/` (a normal admin's
    user), or anywhere strictly inside `base` (`anywhere_in_base`, a global admin's).
    `.`, `..`, repeated slashes and the symbolic links this host can see are resolved
    first, so neither `../other.com/` nor a link out of the folder slips through. Below the
    base the path is lower-cased, as iRedAdmin stores it, and it ends with `/`. It may not
    be a folder that new mailboxes are made in (`maildir_path`): one of them would be
    inside it.
    """
    if not text.startswith("/") or not text.isascii() or "\x00" in text:
        raise BadRequest(detail="maildir must be an absolute path")
    real_base = os.path.realpath(base)
    relative = os.path.relpath(os.path.realpath(text), real_base).lower()
    parts = relative.split("/")
    inside = parts[0] not in ("..", ".") and (anywhere_in_base or (
        parts[0] == domain.lower() and len(parts) > 1))
    if not inside:
        where = base if anywhere_in_base else f"{base.rstrip('/')}/{domain}/"
        raise BadRequest(detail=f"maildir must lie inside {where}")
    if not _PATH_CHARACTERS.fullmatch(relative):
        raise BadRequest(detail="maildir may hold only letters, digits and . _ @ + - /")
    if len(parts) <= 4 and all(len(part) == 1 for part in parts[1:]):
        raise BadRequest(detail="maildir may not be a domain's folder, nor one of the "
                                "folders new mailboxes are made in (<domain>/x/y/z/)")
    return fitting(f"{base.rstrip('/')}/{relative}/")


def fitting(path: str) -> str:
    """`path`, if iRedAdmin's deleted_mailboxes can record it; else BadRequest."""
    if len(path) > MAX_PATH_LENGTH:
        raise BadRequest(detail=f"the mailbox path would be longer than {MAX_PATH_LENGTH} "
                                "characters")
    return path


def enclosing_paths(path: str, base: str) -> list[str]:
    """`path` and every folder above it up to (not including) `base`, each with and without
    its trailing `/`: the homeDirectory values whose mailbox `path` would lie in."""
    out: list[str] = []
    current = path.rstrip("/")
    stop = base.rstrip("/")
    while current.startswith(stop + "/"):
        out += [current + "/", current]
        current = current.rsplit("/", 1)[0]
    return out
