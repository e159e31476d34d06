"""GET /api/health: whether the directory and every policy database answer.

No session is needed: 200 `{"_success": true}` when every backend answers, 503
`{"_success": false, "_msg": "SERVICE_UNAVAILABLE"}` when one does not, naming nothing. A
global admin's session adds `_data`: each LDAP URI and each database, up or down, and how
long its probe took; the leader (the LDAP server this worker reads and writes through), each
server's contextCSN and lag behind the leader; and a fingerprint of SECRET_KEY (`key_id`), so
hosts that disagree on it are seen. The API switch and the client allow-list apply as to every URL.

The status is the real one even with API_ALWAYS_HTTP_200: load balancers and container
health checks read only the status, and no old iRedAdmin client calls this URL.
"""

from ..errors import ApiError, Code
from ..services.health import replication
from ..sessions import COOKIE_NAME
from .params import read_params


class Health:
    auth_required = False  # a session only adds details; see _global_admin()

    def __init__(self, check, auth, leader, key_id, writes_held=lambda: None):
        self._check = check
        self._auth = auth
        self._leader = leader  # () -> the server of LDAP_URI this worker uses
        self._key_id = key_id
        # () -> None, or the seconds since a failover whose new leader is catching up
        self._writes_held = writes_held

    def on_get(self, req, resp):
        read_params(req).only()
        report = self._check.report()
        body = {"_success": report.healthy}
        if not report.healthy:
            body["_msg"] = Code.SERVICE_UNAVAILABLE.name
        if self._global_admin(req, report):
            body["_data"] = {**report.details(), **replication(report, self._leader()),
                             "writes_held": self._writes_held() is not None,
                             "key_id": self._key_id}
        resp.status = 200 if report.healthy else Code.SERVICE_UNAVAILABLE.status
        resp.set_header("Cache-Control", "no-store")
        resp.media = body

    on_head = on_get

    def _global_admin(self, req, report):
        """Whether the request carries a global admin's session. Checking a session reads
        the directory and iRedAdmin's database, so it is tried only when both answered
        (a check must not wait on a server that is down); a session that is not valid is
        an anonymous request here, not an error."""
        token = req.cookies.get(COOKIE_NAME)
        if not token or not _session_backends_up(report):
            return False
        try:
            return self._auth.authenticate(token).is_global_admin
        except ApiError:
            return False


def _session_backends_up(report):
    up = {(s.backend.kind, s.backend.labels.get("name")) for s in report.statuses if s.up}
    return ("ldap", None) in up and ("database", "iredadmin") in up
