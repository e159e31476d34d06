"""GET /api/openapi.json (the API described, openapi.py) and GET /api/docs (a page that
lists the endpoints from it, served from the package's own files: no CDN).

No session is needed: the description says what the source says, nothing of the data. The
API switch and the client allow-list apply as to every URL.
"""

import json
from importlib import resources

import falcon

from ..errors import NotFound
from ..openapi import DOCS_ASSETS, document
from .params import read_params

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8"}


def _asset(name):
    return (resources.files("iredapi_ldap") / "docs" / name).read_bytes()


def _serve(resp, body, content_type):
    resp.content_type = content_type
    resp.set_header("Cache-Control", "no-cache")
    resp.data = body


class OpenApiDocument:
    auth_required = False

    def __init__(self):
        self._body = json.dumps(document(), indent=1).encode()

    def on_get(self, req, resp):
        read_params(req).only()
        _serve(resp, self._body, falcon.MEDIA_JSON)


class DocsPage:
    auth_required = False

    def __init__(self):
        self._page = _asset("index.html")

    def on_get(self, req, resp):
        read_params(req).only()
        if req.env.get("PATH_INFO", "").endswith("/"):
            # The page's links are relative to /api/docs (or /iredadmin/api/docs).
            raise falcon.HTTPMovedPermanently("../docs")
        _serve(resp, self._page, _TYPES[".html"])


class DocsAsset:
    auth_required = False

    def __init__(self):
        self._files = {name: _asset(name) for name in DOCS_ASSETS}

    def on_get(self, req, resp, asset):
        read_params(req).only()
        if asset not in self._files:
            raise NotFound(detail="no such file of the documentation page")
        _serve(resp, self._files[asset], _TYPES["." + asset.rsplit(".", 1)[-1]])
