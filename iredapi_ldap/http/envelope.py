"""The reply envelope (`{"_success": ...}`) and the one place errors become replies."""

import logging
from typing import Any, TypeGuard

import falcon

from ..errors import ApiError, Code

log = logging.getLogger(__name__)

# Framework errors (unknown URL, wrong method, unreadable body) as API codes; a status with
# no code here (a safety net: this API raises none itself) answers `HTTP_<status>`.
_HTTP_CODES = {code.status: code.name for code in (
    Code.INVALID_PARAMETER, Code.NOT_FOUND, Code.METHOD_NOT_ALLOWED, Code.LENGTH_REQUIRED,
    Code.REQUEST_TOO_LARGE, Code.UNSUPPORTED_MEDIA_TYPE)}


def _printable(text):
    """`text` with what UTF-8 cannot carry (lone surrogates a client sent) replaced, so that
    writing the reply cannot fail."""
    return text.encode("utf-8", "replace").decode("utf-8")


def failed(body: object) -> TypeGuard[dict[str, Any]]:
    """Whether a reply body is a failure (under API_ALWAYS_HTTP_200 only the body says)."""
    return isinstance(body, dict) and body.get("_success") is False


def error_codes(body: object) -> list[str]:
    """The `_msg` codes of a failed reply (each one of a comma-joined list); none for a
    success."""
    if not failed(body):
        return []
    code = body.get("_msg")
    return [part for part in code.split(",") if part] if isinstance(code, str) else []


def ok(resp, data=None, with_data=False):
    """A success reply; `_data` is present when there is data or `with_data` is set."""
    body = {"_success": True}
    if data is not None or with_data:
        body["_data"] = data
    resp.media = body


class ErrorRenderer:
    """Error handlers for the Falcon app. API_ALWAYS_HTTP_200 turns every status into 200."""

    def __init__(self, always_http_200=False):
        self._always_200 = always_http_200

    def install(self, app):
        # Falcon picks the most specific handler by the exception's class hierarchy.
        app.add_error_handler(Exception, self.unexpected)
        app.add_error_handler(falcon.HTTPError, self.http_error)
        app.add_error_handler(ApiError, self.api_error)

    def _render(self, resp, status, code, detail=None):
        body = {"_success": False, "_msg": code}
        if detail:
            body["_detail"] = _printable(str(detail))
        resp.status = 200 if self._always_200 else status
        resp.media = body

    def api_error(self, req, resp, exc, params):
        if exc.status >= 500:
            log.warning("%s %s: %s", req.method, req.path, exc)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            resp.set_header("Retry-After", str(retry_after))
        self._render(resp, exc.status, exc.code, exc.detail)

    def http_error(self, req, resp, exc, params):
        status = exc.status_code
        if exc.headers:
            resp.set_headers(exc.headers)
        self._render(resp, status, _HTTP_CODES.get(status, f"HTTP_{status}"), exc.description)

    def unexpected(self, req, resp, exc, params):
        log.exception("unexpected error in %s %s", req.method, req.path)
        internal = Code.INTERNAL_ERROR
        self._render(resp, internal.status, internal.name, "internal error; see the server log")
