"""GET /api/ldif/{domain|catchall|admin|user|maillist|alias}/<name>.

The LDIF goes in `_data` (streamed as one JSON string, written in escaped chunks), or, with
`Accept: text/ldif`, as the body itself.
"""

import json

from ..errors import NotFound
from ..services.backup import ldif_chunks
from ..services.exports import KINDS
from .params import read_params
from .streaming import primed


class LdifExport:
    def __init__(self, exports):
        self._exports = exports

    def on_get(self, req, resp, kind, name):
        read_params(req).only()
        if kind not in KINDS:
            raise NotFound(detail=f"exports are of: {', '.join(KINDS)}")
        chunks = primed(ldif_chunks(self._exports.entries(req.context.caller, kind, name)))
        if "text/ldif" in (req.accept or ""):
            resp.content_type = "text/ldif; charset=utf-8"
            resp.stream = (chunk.encode("utf-8") for chunk in chunks)
        else:
            resp.content_type = "application/json"
            resp.stream = _json(chunks)


def _json(chunks):
    yield b'{"_success": true, "_data": "'
    for chunk in chunks:
        yield json.dumps(chunk)[1:-1].encode("utf-8")
    yield b'"}'
