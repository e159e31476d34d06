"""/api/user/<mail>, /api/users/<domain>, /api/verify_password/user/<mail>."""

from ..model.render import render_entry
from .envelope import ok
from .params import flag, read_params, require_one_of
from .streaming import stream_list


class User:
    def __init__(self, users):
        self._users = users

    def on_get(self, req, resp, mail):
        read_params(req).only()
        ok(resp, self._users.get(req.context.caller, mail))

    def on_post(self, req, resp, mail):
        self._users.create(req.context.caller, mail, read_params(req))
        ok(resp)

    def on_put(self, req, resp, mail):
        self._users.update(req.context.caller, mail, read_params(req))
        ok(resp)

    def on_delete(self, req, resp, mail, days=None):
        read_params(req).only()
        self._users.delete(req.context.caller, mail, keep_days=days)
        ok(resp)

    # .../keep_mailbox_days/{days} takes DELETE only (app.py: suffix "keeping").
    on_delete_keeping = on_delete


class Users:
    def __init__(self, users, bulk):
        self._users = users
        self._bulk = bulk

    def on_get(self, req, resp, domain):
        params = read_params(req).only("email_only", "disabled_only")
        email_only = flag(params, "email_only")
        entries = self._users.list(req.context.caller, domain, email_only=email_only,
                                   disabled_only=flag(params, "disabled_only"))
        # The service left out what API_HIDDEN_USER_PROFILES hides (hidden=()).
        stream_list(resp, (str(e.first("mail", "")).lower() if email_only
                           else render_entry(e, hidden=()) for e in entries))

    def on_put(self, req, resp, domain):
        result = self._bulk.update(req.context.caller, domain, read_params(req))
        ok(resp, result.as_data())


class ChangeEmail:
    def __init__(self, users):
        self._users = users

    def on_post(self, req, resp, mail, new_mail):
        read_params(req).only()
        self._users.change_email(req.context.caller, mail, new_mail)
        ok(resp)


class VerifyUserPassword:
    def __init__(self, users):
        self._users = users

    def on_post(self, req, resp, mail):
        params = read_params(req).only("password")
        require_one_of(params, "password")
        self._users.verify_password(req.context.caller, mail, params["password"])
        ok(resp)
