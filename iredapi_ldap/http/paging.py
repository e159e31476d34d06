"""Paged listings: `limit` (as iRedMail's Enterprise Edition takes it) and `cursor`.

Without either, a listing answers as it always has: every entry, streamed. With `limit`, it
answers at most that many entries, in name order (address, or domain name), and `_cursor`
beside `_data`: the cursor of the next page, or null on the last. `cursor` continues a
listing after the page that gave it, with the same `limit` unless another is given.
"""

import re
from dataclasses import dataclass
from typing import Optional

from ..cursors import CursorCodec
from ..errors import BadRequest

MAX_LIMIT = 1000
PARAMS = ("limit", "cursor")
_WHOLE = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Paging:
    """A page to answer: `limit` entries after the name `after` (None: from the first)."""

    limit: int
    after: Optional[str]


def read_paging(params, cursors: CursorCodec, listing: str, scope: str) -> Optional[Paging]:
    """The page `params` ask for, or None for the whole listing. `listing` and `scope`
    (the domain, or "") name the listing, which a cursor must have been issued for."""
    limit, token = params.get("limit"), params.get("cursor")
    if limit is None and token is None:
        return None
    position = cursors.read(token, listing, scope) if token is not None else None
    if limit is not None:
        return Paging(parse_limit(limit), position.after if position else None)
    assert position is not None
    return Paging(parse_limit(str(position.limit)), position.after)


def parse_limit(text: str) -> int:
    """`limit`: a whole number from 1 to MAX_LIMIT."""
    if not _WHOLE.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequest(detail=f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def reply_page(resp, items, result, paging: Paging, cursors: CursorCodec, listing: str,
               scope: str) -> None:
    """`{"_success": true, "_data": [the page's items], "_cursor": next page or null}`."""
    cursor = cursors.issue(listing, scope, result.last, paging.limit) \
        if result.more and result.last is not None else None
    resp.media = {"_success": True, "_data": list(items), "_cursor": cursor}
