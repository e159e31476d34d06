"""/api/user/<mail>, /api/users/<domain>, /api/verify_password/user/<mail>."""

from ..errors import BadRequest, Code
from ..model.render import render_entry
from . import paging
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


# Adds `used_quota` and `last_login` to each listed user (one query per page or batch).
WITH_USAGE = "with_usage"
LISTING = "users"


class Users:
    def __init__(self, users, bulk, cursors):
        self._users = users
        self._bulk = bulk
        self._cursors = cursors

    def on_get(self, req, resp, domain):
        params = read_params(req).only("email_only", "disabled_only", WITH_USAGE,
                                       *paging.PARAMS)
        email_only, usage = flag(params, "email_only"), flag(params, WITH_USAGE)
        if email_only and usage:
            raise BadRequest(Code.CONFLICTING_PARAMETERS,
                             detail=f"{WITH_USAGE} needs profiles, not email_only")
        disabled_only = flag(params, "disabled_only")
        scope = domain.lower()
        page = paging.read_paging(params, self._cursors, LISTING, scope)
        if page is None:
            entries = self._users.list(req.context.caller, domain, email_only=email_only,
                                       disabled_only=disabled_only)
            stream_list(resp, self._items(entries, email_only, usage))  # a query a batch
            return
        result = self._users.page(req.context.caller, domain, page.after, page.limit,
                                  email_only=email_only, disabled_only=disabled_only)
        paging.reply_page(resp, self._items(result.entries, email_only, usage, page.limit),
                          result, page, self._cursors, LISTING, scope)  # one query a page

    def _items(self, entries, email_only, usage, batch_size=None):
        if email_only:
            return (str(e.first("mail", "")).lower() for e in entries)
        # The service left out what API_HIDDEN_USER_PROFILES hides (hidden=()).
        profiles = (render_entry(e, hidden=()) for e in entries)
        if not usage:
            return profiles
        return self._users.with_usage(profiles, *([batch_size] if batch_size else []))

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
