"""GET /api/domains, GET|POST|PUT|DELETE /api/domain/<domain>,
DELETE /api/domain/<domain>/keep_mailbox_days/<number>, GET|PUT /api/domain/admins/<domain>."""

from ..model.render import render_entry
from . import paging
from .envelope import ok
from .params import flag, read_params
from .streaming import stream_list

LISTING = "domains"


class Domains:
    def __init__(self, domains, cursors):
        self._domains = domains
        self._cursors = cursors

    def on_get(self, req, resp):
        params = read_params(req).only("name_only", "disabled_only", *paging.PARAMS)
        names_only = flag(params, "name_only")
        disabled_only = flag(params, "disabled_only")
        page = paging.read_paging(params, self._cursors, LISTING, "")
        if page is None:
            entries = self._domains.list(req.context.caller, names_only=names_only,
                                         disabled_only=disabled_only)
            stream_list(resp, (_item(e, names_only) for e in entries))
            return
        result = self._domains.page(req.context.caller, page.after, page.limit,
                                    disabled_only=disabled_only, names_only=names_only)
        paging.reply_page(resp, (_item(e, names_only) for e in result.entries), result, page,
                          self._cursors, LISTING, "")


def _item(entry, names_only):
    return str(entry.first("domainName", "")).lower() if names_only else render_entry(entry)


class Domain:
    def __init__(self, domains):
        self._domains = domains

    def on_get(self, req, resp, domain):
        read_params(req).only()
        ok(resp, self._domains.get(req.context.caller, domain))

    def on_post(self, req, resp, domain):
        self._domains.create(req.context.caller, domain, read_params(req))
        ok(resp)

    def on_put(self, req, resp, domain):
        result = self._domains.update(req.context.caller, domain, read_params(req))
        ok(resp, result.as_data() if result else None)

    def on_delete(self, req, resp, domain, days=None):
        read_params(req).only()
        result = self._domains.delete(req.context.caller, domain, keep_days=days)
        ok(resp, result.as_data())

    # .../keep_mailbox_days/{days} takes DELETE only (app.py: suffix "keeping").
    on_delete_keeping = on_delete


class DomainAdmins:
    def __init__(self, admins):
        self._admins = admins

    def on_get(self, req, resp, domain):
        read_params(req).only()
        ok(resp, self._admins.list(req.context.caller, domain))

    def on_put(self, req, resp, domain):
        self._admins.update(req.context.caller, domain, read_params(req))
        ok(resp)
