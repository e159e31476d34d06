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
                                          req.remote_addr)
        resp.set_cookie(COOKIE_NAME, token, max_age=self._timeout, path="/",
                        secure=req.scheme == "https", http_only=True, same_site="Strict")
        ok(resp)


class Logout:
    """Tells the client to drop its session cookie.

    Sessions are stateless signed cookies, so a copy kept elsewhere stays valid until it
    expires or the admin's password changes (README, "Sessions").
    """

    auth_required = False

    def on_post(self, req, resp):
        resp.unset_cookie(COOKIE_NAME, path="/")
        ok(resp)
