"""Which of iRedAdmin's deleted_mailboxes rows lie near a mailbox path: at it, in a folder
above it, or inside it. A kept mailbox (and a pending one, whose purge date is not set
yet) must not become a new account's: Dovecot would serve its mail, and purging it would
remove the new account's."""

from typing import Any

from sqlalchemy import ColumnElement, bindparam

from .engine import LIKE_ESCAPE, like_prefix
from .tables import deleted_mailboxes

# Built once, with bound values (`near_values`): a statement built per call costs more
# Python than the query costs the database.
NEAR: ColumnElement[bool] = (
    deleted_mailboxes.c.maildir.in_(bindparam("above", expanding=True))
    | deleted_mailboxes.c.maildir.like(bindparam("inside"), escape=LIKE_ESCAPE))


def near_values(path: str) -> dict[str, Any]:
    """The bound values of NEAR for `path`: the path and every folder above it, each with
    and without its trailing `/`, and the pattern of what lies inside it."""
    trimmed = path.rstrip("/")
    above, current = [], trimmed
    while "/" in current.strip("/"):
        above += [current, current + "/"]
        current = current.rsplit("/", 1)[0]
    return {"above": above, "inside": like_prefix(trimmed + "/")}
