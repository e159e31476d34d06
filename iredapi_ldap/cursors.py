"""Listing cursors: where the next page of a paged listing starts, as an opaque token
signed with SECRET_KEY. A cursor holds only the listing it belongs to (its URL's kind and
domain), the name of the last entry of the page it ended (listings are in name order, and
names are unique within a listing), and the page size: no server-side state, so any worker
or host that shares SECRET_KEY continues a listing another one started, and entries added
or removed between pages neither repeat nor hide the others.
"""

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .errors import BadRequest, Code

VERSION = 1


@dataclass(frozen=True)
class Position:
    """Where a cursor says a listing goes on: after the name `after`, `limit` at a time."""

    after: str
    limit: int


class CursorCodec:
    """Issues and reads listing cursors."""

    def __init__(self, secret_key: str) -> None:
        # Its own salt: a session token is no cursor, and a cursor no session token.
        self._serializer = URLSafeSerializer(secret_key, salt="iredapi-ldap listing cursor")

    def issue(self, listing: str, scope: str, after: str, limit: int) -> str:
        """A cursor that continues `listing` (`users`, ...) of `scope` (a domain, or "")
        after the name `after`, `limit` entries a page."""
        return self._serializer.dumps([VERSION, listing, scope, after, limit])

    def read(self, token: str, listing: str, scope: str) -> Position:
        """Where the cursor `token` continues `listing` of `scope`.

        Raises:
            BadRequest: INVALID_CURSOR: tampered, signed with another key, or issued for
                another listing or domain.
        """
        try:
            version, its_listing, its_scope, after, limit = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise BadRequest(Code.INVALID_CURSOR, detail="the cursor is not one this "
                                                         "server issued") from None
        if (version, its_listing, its_scope) != (VERSION, listing, scope) \
                or not isinstance(after, str) or not isinstance(limit, int):
            raise BadRequest(Code.INVALID_CURSOR, detail="the cursor belongs to another "
                                                         "listing")
        return Position(after, limit)
