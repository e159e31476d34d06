"""GET /api/ldif/{domain|catchall|admin|user|maillist|alias}/<name>.

The LDIF goes in `_data` (streamed as one JSON string, written in escaped chunks), or, with
`Accept: text/ldif`, as the body itself.
"""

import json

from ..errors import NotFound
from ..services.backup import ldif_chunks
from ..services.exports import KINDS
from .params import read_params

_NOTHING = object()


class LdifExport:
    def __init__(self, exports):
        self._exports = exports

    def on_get(self, req, resp, kind, name):
        read_params(req).only()
        if kind not in KINDS:
            raise NotFound(detail=f"exports are of: {', '.join(KINDS)}")
        chunks = ldif_chunks(self._exports.entries(req.context.caller, kind, name))
        first = next(chunks, _NOTHING)  # errors before the reply starts become replies
        if "text/ldif" in (req.accept or ""):
            resp.content_type = "text/ldif; charset=utf-8"
            resp.stream = _raw(first, chunks)
        else:
            resp.content_type = "application/json"
            resp.stream = _json(first, chunks)


def _raw(first, rest):
    if first is not _NOTHING:
        yield first.encode("utf-8")
        for chunk in rest:
            yield chunk.encode("utf-8")


def _json(first, rest):
    yield b'{"_success": true, "_data": "'
    for chunk in _raw(first, rest):
        yield json.dumps(chunk.decode("utf-8"))[1:-1].encode("utf-8")
    yield b'"}'
