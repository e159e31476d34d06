"""/api/admin/<mail> and /api/verify_password/admin/<mail> (global admins only)."""

from .envelope import ok
from .params import read_params, require_one_of


class Admin:
    def __init__(self, admins):
        self._admins = admins

    def on_get(self, req, resp, mail):
        read_params(req).only()
        ok(resp, self._admins.get(req.context.caller, mail))

    def on_post(self, req, resp, mail):
        self._admins.create(req.context.caller, mail, read_params(req))
        ok(resp)

    def on_put(self, req, resp, mail):
        self._admins.update(req.context.caller, mail, read_params(req))
        ok(resp)

    def on_delete(self, req, resp, mail):
        read_params(req).only()
        self._admins.delete(req.context.caller, mail)
        ok(resp)


class VerifyAdminPassword:
    def __init__(self, admins):
        self._admins = admins

    def on_post(self, req, resp, mail):
        params = read_params(req).only("password")
        require_one_of(params, "password")
        self._admins.verify_password(req.context.caller, mail, params["password"])
        ok(resp)
