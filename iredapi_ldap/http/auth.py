"""POST /api/login and POST /api/logout."""

from ..sessions import COOKIE_NAME
from .envelope import ok
from .params import read_params


class Login:
    auth_required = False

    def __init__(self, auth, session_timeout):
        self._auth = auth
        self._timeout = session_timeout

    def on_post(self, req, resp):
        params = read_params(req).only("username", "password")
        token, _caller = self._auth.login(params.get("username"), params.get("password"),
                                          req.context.client_ip)
        resp.set_cookie(COOKIE_NAME, token, max_age=self._timeout, path="/",
                        secure=req.context.secure, http_only=True, same_site="Strict")
        ok(resp)


class Logout:
    """Ends the session (on every worker and host: a copy of the cookie kept elsewhere
    stops working too) and tells the client to drop its cookie."""

    auth_required = False

    def __init__(self, auth):
        self._auth = auth

    def on_post(self, req, resp):
        read_params(req).only()
        self._auth.logout(req.cookies.get(COOKIE_NAME))
        resp.unset_cookie(COOKIE_NAME, path="/")
        ok(resp)
