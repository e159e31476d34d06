"""`GET /metrics` for the addresses of METRICS_ALLOW, and the metrics of every request.

`/metrics` is not an API URL (not under `/api`, nor `/iredadmin/api`): it needs no session,
and neither ENABLE_RESTFUL_API nor RESTRICT_API_ACCESS apply to it; only METRICS_ALLOW does,
checked against the client address `ClientAddress` found (TRUSTED_PROXIES aware). A client
outside it, or any client when METRICS_ALLOW is empty, gets what any unknown URL gets.

Every request is counted by its route template (`/api/user/{mail}`, never the URL with its
addresses; `unmatched` for a URL of no route), its method and its status, and timed; a
failed reply counts its `_msg` code (each one, for a comma-joined list).
"""

import time
from collections.abc import Callable

import falcon

from .. import metrics
from ..config import Settings
from .envelope import error_codes
from .middleware import _address, _networks, _within

PATH = "/metrics"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def route_label(req: falcon.Request) -> str:
    """The route a request is counted under: the template the router matched, `/metrics`,
    or `unmatched` (an unknown URL, or one refused before routing)."""
    if getattr(req.context, "metrics_served", False):
        return PATH
    return req.uri_template or UNMATCHED


def method_label(method: str) -> str:
    """The method, or `other` for one outside HTTP's usual few (a client may send any
    word)."""
    return method if method in METHODS else "other"


class Metrics:
    """Falcon middleware: after `ClientAddress`, before `ApiGate`."""

    def __init__(self, settings: Settings,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self._allowed = _networks(settings.metrics_allow)
        self._clock = clock

    def allowed(self, client_ip: str) -> bool:
        """Whether `client_ip` may read the metrics."""
        return _within(_address(client_ip), self._allowed)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = self._clock()
        if (req.path != PATH or req.method not in ("GET", "HEAD")
                or not self.allowed(getattr(req.context, "client_ip", ""))):
            return
        req.context.metrics_served = True
        resp.content_type = metrics.CONTENT_TYPE
        resp.set_header("Cache-Control", "no-store")
        resp.data = metrics.exposition()
        resp.complete = True

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        started = getattr(req.context, "metrics_started", None)
        route, method = route_label(req), method_label(req.method)
        metrics.REQUESTS.labels(route, method, str(resp.status_code)).inc()
        if started is not None:
            metrics.REQUEST_SECONDS.labels(route, method).observe(self._clock() - started)
        for code in error_codes(resp.media):
            metrics.ERRORS.labels(code).inc()
