"""/api/alias/<mail>, /api/aliases/<domain>, /api/alias/<mail>/change_email/<new>,
/api/maillist/<mail>, /api/maillists/<domain>."""

from . import paging
from .envelope import ok
from .params import flag, read_params
from .streaming import stream_list

# `archive` (mailing lists): iRedAdmin-Pro archives mlmmj lists before deleting them; an
# LDAP-only list has no archive, so the flag is accepted and changes nothing.
LIST_DELETE_FLAGS = ("archive",)


class Group:
    """One alias or mailing list; `delete_flags`: the parameters its DELETE accepts."""

    def __init__(self, groups, delete_flags=()):
        self._groups = groups
        self._delete_flags = delete_flags

    def on_get(self, req, resp, mail):
        read_params(req).only()
        ok(resp, self._groups.get(req.context.caller, mail))

    def on_post(self, req, resp, mail):
        self._groups.create(req.context.caller, mail, read_params(req))
        ok(resp)

    def on_put(self, req, resp, mail):
        self._groups.update(req.context.caller, mail, read_params(req))
        ok(resp)

    def on_delete(self, req, resp, mail):
        read_params(req).only(*self._delete_flags)
        self._groups.delete(req.context.caller, mail)
        ok(resp)


class Groups:
    """The aliases or mailing lists of a domain; `listing` names them in cursors."""

    def __init__(self, groups, flags, cursors, listing):
        self._groups = groups
        self._flags = flags
        self._cursors = cursors
        self._listing = listing

    def on_get(self, req, resp, domain):
        params = read_params(req).only(*self._flags, *paging.PARAMS)
        email_only = flag(params, "email_only")
        disabled_only = flag(params, "disabled_only")
        scope = domain.lower()
        page = paging.read_paging(params, self._cursors, self._listing, scope)
        if page is None:
            entries = self._groups.list(req.context.caller, domain, email_only=email_only,
                                        disabled_only=disabled_only)
            stream_list(resp, self._items(entries, email_only))
            return
        result = self._groups.page(req.context.caller, domain, page.after, page.limit,
                                   email_only=email_only, disabled_only=disabled_only)
        paging.reply_page(resp, self._items(result.entries, email_only), result, page,
                          self._cursors, self._listing, scope)

    def _items(self, entries, email_only):
        if email_only:
            return (str(e.first("mail", "")).lower() for e in entries)
        return self._groups.profiles(entries)  # with `members`, as a GET shows them


class AliasChangeEmail:
    def __init__(self, aliases):
        self._aliases = aliases

    def on_post(self, req, resp, mail, new_mail):
        read_params(req).only()
        self._aliases.change_email(req.context.caller, mail, new_mail)
        ok(resp)
