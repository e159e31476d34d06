"""What a request leaves behind: its id, a log line (`LOG_FORMAT: json`) and, for a write
that succeeded, a row in iRedAdmin's admin log.

`RequestLog` gives every request an id (`X-Request-Id` in the reply) and, in JSON, logs one
line per request: the admin, the route template, the method, the status and the duration.
`Audit` writes one `log` row per successful POST, PUT or DELETE of an account, a domain or a
policy, as iRedAdmin-Pro records it. A refused or failed request writes nothing. The message
names the parameters a write was given, never their values (a password never reaches the
log); only `accountStatus`'s and the admin parameters' names decide the event. An admin log
that cannot be written never turns a done write into an error: it is a warning in the log.
"""

import dataclasses
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Optional

import falcon

from ..logformat import request_id
from ..policy.audit import AuditEntry, AuditLog
from ..throttle import source_of
from .envelope import failed

log = logging.getLogger(__name__)
request_log = logging.getLogger("iredapi_ldap.requests")

WRITES = ("POST", "PUT", "DELETE")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _succeeded(req: falcon.Request, resp: falcon.Response, req_succeeded: bool) -> bool:
    """Whether the request did what it asked (API_ALWAYS_HTTP_200 answers errors with 200:
    the envelope says)."""
    return req_succeeded and resp.status_code < 400 and not failed(resp.media)


def _caller_mail(req: falcon.Request) -> Optional[str]:
    caller = getattr(req.context, "caller", None)
    return getattr(caller, "mail", None)


class RequestLog:
    """Request id for every request; with `json`, one log line per request."""

    def __init__(self, json_lines: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self._lines = json_lines
        self._clock = clock

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = uuid.uuid4().hex
        req.context.started = self._clock()
        req.context.request_id_token = request_id.set(req.context.request_id)

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        rid = getattr(req.context, "request_id", None)
        if rid is None:
            return
        resp.set_header("X-Request-Id", rid)
        try:
            if self._lines:
                self._log(req, resp, rid)
        finally:
            request_id.reset(req.context.request_id_token)

    def _log(self, req: falcon.Request, resp: falcon.Response, rid: str) -> None:
        code = resp.media.get("_msg") if failed(resp.media) else None
        duration = round((self._clock() - req.context.started) * 1000, 1)
        request_log.info("%s %s %s", req.method, req.uri_template or "-", resp.status_code,
                         extra={"request_id": rid, "admin": _caller_mail(req),
                                "client": getattr(req.context, "client_ip", None),
                                "method": req.method, "route": req.uri_template,
                                "status": resp.status_code, "code": code,
                                "duration_ms": duration})


@dataclasses.dataclass(frozen=True)
class _Route:
    """How a route's writes read in the admin log: the noun of what it changes, the URL
    parameter naming it, whether it is an account (else a policy setting), and the URL
    parameters that qualify the noun (`inbound throttle`)."""

    noun: str
    target: str
    account: bool = True
    qualifiers: tuple[str, ...] = ()


# Route templates after the API's prefix (`/api`), and how their writes are logged. Login,
# logout and the password checks are not writes of accounts: a login is logged by itself.
ROUTES = {
    "domain/{domain}": _Route("domain", "domain"),
    "domain/{domain}/keep_mailbox_days/{days}": _Route("domain", "domain"),
    "domain/admins/{domain}": _Route("domain admins", "domain"),
    "admin/{mail}": _Route("admin", "mail"),
    "user/{mail}": _Route("user", "mail"),
    "user/{mail}/keep_mailbox_days/{days}": _Route("user", "mail"),
    "users/{domain}": _Route("users of domain", "domain"),
    "user/{mail}/change_email/{new_mail}": _Route("user", "mail"),
    "alias/{mail}": _Route("alias", "mail"),
    "alias/{mail}/change_email/{new_mail}": _Route("alias", "mail"),
    "maillist/{mail}": _Route("mailing list", "mail"),
    "spampolicy/global": _Route("spam policy", "", account=False),
    "spampolicy/domain/{name}": _Route("spam policy", "name", account=False),
    "spampolicy/user/{name}": _Route("spam policy", "name", account=False),
    "throttle/{target}/{kind}": _Route("throttle", "target", account=False,
                                       qualifiers=("kind",)),
    "wblist/{direction}/{listing}/{target}": _Route("", "target", account=False,
                                                    qualifiers=("direction", "listing")),
    "greylisting/whitelist_spf_domains": _Route("greylisting SPF domains", "",
                                                account=False),
    "greylisting/{target}": _Route("greylisting", "target", account=False),
    "greylisting/{target}/whitelists": _Route("greylisting whitelists", "target",
                                              account=False),
}


def route_key(template: Optional[str], prefix: str = "/api") -> str:
    """`template` after `prefix`: `/api/user/{mail}` -> `user/{mail}`; '' for a route
    outside it."""
    head = prefix.rstrip("/") + "/"
    return template[len(head):] if template and template.startswith(head) else ""


def _scope(target: str) -> tuple[str, str]:
    """(domain, username) of a URL's target: an address, `@domain`, a domain or global."""
    target = target.strip().lower()
    if target in ("", "global", "@."):
        return "", ""
    if "@" in target:
        local, domain = target.rsplit("@", 1)
        return domain, target if local else ""
    return target, ""


def _event(method: str, route: _Route, params: Mapping[str, str]) -> tuple[str, str]:
    """(iRedAdmin's event, the verb of the message)."""
    if not route.account:
        return "update", "Delete" if method == "DELETE" else "Update"
    if method == "DELETE":
        return "delete", "Delete"
    if method == "POST":
        return "create", "Create"
    status = params.get("accountStatus")
    if status is not None:
        return ("active", "Activate") if status.strip().lower() == "active" \
            else ("disable", "Disable")
    if route.noun == "domain admins":
        names = set(params)
        if names == {"addAdmin"}:
            return "grant", "Grant"
        if names and names <= {"removeAdmin", "removeAllAdmins"}:
            return "revoke", "Revoke"
    return "update", "Update"


def describe(method: str, template: Optional[str], url_params: Mapping[str, Any],
             params: Mapping[str, str], prefix: str = "/api"
             ) -> Optional[tuple[str, str, str, str]]:
    """(event, message, domain, username) of a successful write; None for what is not
    audited. `params` (the request's parameters) give only their names to the message."""
    key = route_key(template, prefix)
    route = ROUTES.get(key)
    if route is None or method not in WRITES:
        return None
    target = str(url_params.get(route.target, "")) if route.target else ""
    domain, username = _scope(target)
    if route.noun == "admin":
        domain = ""  # a standalone admin's address is in no hosted domain
    event, verb = _event(method, route, params)
    noun = " ".join([*(str(url_params.get(name, "")) for name in route.qualifiers),
                     route.noun]).strip()
    what = target.lower() or "global"
    if "new_mail" in url_params:
        event, verb = "update", "Change email of"
        what = f"{what} to {str(url_params['new_mail']).lower()}"
    # Only names a route takes reach here (the others are refused), and only names that
    # look like names are written: never a value.
    details = sorted(name for name in params if _NAME.fullmatch(name))
    if "days" in url_params:
        details.append(f"keep mailbox {url_params['days']} days")
    msg = f"{verb} {noun}: {what}" + (f" ({', '.join(details)})" if details else "") + "."
    return event, msg, domain, username


class Audit:
    """One iRedAdmin admin-log row per successful write (`audit`: a `policy.audit.AuditLog`;
    `prefix`: what the app's routes start with)."""

    def __init__(self, audit: AuditLog, clock: Callable[[], float] = time.time,
                 prefix: str = "/api") -> None:
        self._audit = audit
        self._clock = clock
        self._prefix = prefix

    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict[str, Any]) -> None:
        req.context.url_params = dict(params)

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        if req.method not in WRITES or not _succeeded(req, resp, req_succeeded):
            return
        admin = _caller_mail(req)
        described = describe(req.method, req.uri_template,
                             getattr(req.context, "url_params", {}),
                             getattr(req.context, "params", None) or {}, self._prefix)
        if admin is None or described is None:
            return
        event, msg, domain, username = described
        ip = getattr(req.context, "client_ip", "") or ""
        try:
            self._audit.record(AuditEntry(admin=admin, ip=source_of(ip)[0], event=event, msg=msg,
                                          domain=domain, username=username), self._clock())
        except Exception as exc:  # noqa: BLE001 - the write is done; its log row is not
            log.warning("admin log: not recorded (%s): %s by %s from %s: %s",
                        getattr(exc, "code", type(exc).__name__), event, admin, ip, msg)
