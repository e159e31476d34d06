"""The API described as an OpenAPI 3.1 document (`GET /api/openapi.json`). Pure.

The document is built from the tables that drive the code, so it cannot drift from it: a
create's or an update's body is the kind's parameter rows (model/kinds.py: names, legacy
names, codec, who may give them), the spam-policy, white/blacklist, throttle, greylisting and
set parameters come from the constants their resources read, and the replies' `_msg` codes are the
`errors.Code` catalogue. `ENDPOINTS` lists every route with its methods; a unit test checks
it against the routes `app.create_app` registers, both ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .addresses import DOMAIN_PATTERN, MAIL_PATTERN, MAX_DOMAIN_LENGTH, MAX_MAIL_LENGTH
from .errors import Code
from .http.groups import LIST_DELETE_FLAGS
from .http.paging import MAX_LIMIT as MAX_PAGE
from .http.policies import SENDERS, SPF_DOMAINS
from .http.users import WITH_USAGE
from .model import fields, render
from .model.kinds import ADMIN, ALIAS, BY_API_NAME, DOMAIN, LIST, USER
from .model.params import Kind, Param, Who
from .model.sets import SetParam
from .model.spampolicy import SPAM_POLICY, Score
from .model.wblist import ADDRESSES, DIRECTIONS, LISTS
from .services.domain_admins import ADMINS
from .services.policies import MAX_LIMIT, MAX_PERIOD, THROTTLE_KINDS, THROTTLE_LIMITS
from .services.user_bulk import BULK_PARAMS
from .sessions import COOKIE_NAME

Schema = dict[str, Any]

YES_NO: Schema = {"type": "string", "enum": ["yes", "no"]}


@dataclass(frozen=True)
class Field:
    """One documented parameter: its name, schema and description; `legacy` names it had
    (documented as deprecated aliases), `who` may give it."""

    name: str
    schema: Schema
    description: str = ""
    legacy: tuple[str, ...] = ()
    who: str | None = None
    required: bool = False


Fields = Callable[[], Sequence[Field]]


@dataclass(frozen=True)
class Op:
    """One method of one route. `params`: the query parameters of a GET, the body of the
    others. `public`: answers without a session (the API switch and client allow-list still
    apply). `data`: the schema of `_data` in a success reply (None: no `_data`); `raw`: the
    media types of a success reply that is a file, not the envelope."""

    method: str
    summary: str
    params: Fields = lambda: ()
    public: bool = False
    data: Schema | None = None
    raw: tuple[str, ...] = ()  # media types of a reply that is not the envelope
    paged: bool = False  # takes `limit` and `cursor`; a paged reply has `_cursor`


@dataclass(frozen=True)
class Endpoint:
    path: str          # as registered in app.py (Falcon's `{name}` fields are OpenAPI's)
    tag: str
    ops: tuple[Op, ...]
    path_params: dict[str, Schema] = field(default_factory=dict)


# -- parameters from the tables ------------------------------------------------------------

def codec_schema(codec: fields.Codec | None) -> Schema:  # noqa: C901 - one case per codec
    """The JSON schema of a parameter's text, from its codec (values travel as text in a
    form body; a JSON body may give numbers and booleans, turned into that text)."""
    if isinstance(codec, fields.Choice):
        return {"type": "string", "enum": [word for word, _ in codec.stored]}
    if isinstance(codec, fields.Integer):
        low = -1 if codec.allow_minus_one else codec.low
        return {"type": "integer", "minimum": low, "maximum": codec.high}
    if isinstance(codec, (fields.Megabytes, fields.MegabytesSetting)):
        return {"type": "integer", "minimum": 0, "maximum": codec.high,
                "description": "In megabytes."}
    if isinstance(codec, fields.Text):
        return {"type": "string", "maxLength": codec.max_length}
    if isinstance(codec, fields.TextList):
        return {"type": "string", "description": "Comma-separated."}
    if isinstance(codec, fields.Pattern):
        return {"type": "string", "pattern": f"^(?:{codec.regex})?$"}
    if isinstance(codec, fields.Language):
        return {"type": "string", "pattern": r"^(?:[a-z]{2,3}(_[A-Z]{2})?)?$"}
    if isinstance(codec, fields.Email):
        return {"type": "string", "format": "email"}
    return {"type": "string"}


def _row_description(row: Param) -> str:
    parts = []
    if row.attribute:
        where = f"accountSetting `{row.setting}`" if row.setting else f"`{row.attribute}`"
        parts.append(f"Stored in {where}.")
    if row.rule is not None:
        parts.append(f"Applied by {type(row.rule).__name__}.")
    if row.effect is not None:
        parts.append(f"Then {row.effect.value}.")
    if row.who is not Who.ADMIN:
        parts.append(f"May be given by {row.who.value}.")
    if row.legacy:
        parts.append("Legacy name(s): " + ", ".join(row.legacy) + ".")
    return " ".join(parts)


def kind_fields(kind: Kind, creating: bool, only: Iterable[str] | None = None) -> Fields:
    """The rows a create (or an update) of `kind` accepts, in table order (only those named
    in `only`, when given)."""
    def rows() -> list[Field]:
        wanted = set(kind.names(creating) if only is None else only)
        required = {one[0] for one in kind.required_on_create if len(one) == 1} \
            if creating else set()
        return [Field(row.name, codec_schema(row.codec), _row_description(row), row.legacy,
                      row.who.value, row.name in required)
                for row in kind.params if row.name in wanted]
    return rows


def named(*names: str, schema: Schema | None = None, description: str = "",
          required: bool = False) -> Fields:
    return lambda: [Field(name, dict(schema or {"type": "string"}), description,
                          required=required) for name in names]


def set_fields(the_set: SetParam, what: str) -> Fields:
    """The parameters of a set (whole, add, remove, remove-all), comma-separated items."""
    def rows() -> list[Field]:
        out = []
        for name in the_set.params():
            if name == the_set.remove_all:
                out.append(Field(name, {"type": "string", "enum": ["", "yes", "true", "1"]},
                                 f"remove every {what}"))
            else:
                verb = {the_set.whole: "replace the", the_set.add: "add to the",
                        the_set.remove: "remove from the"}[name]
                out.append(Field(name, {"type": "string"},
                                 f"{verb} {what}s (comma-separated)"))
        return out
    return rows


def spam_policy_fields() -> list[Field]:
    out = []
    for name, row in SPAM_POLICY.items():
        if isinstance(row, Score):
            schema: Schema = {"oneOf": [{"type": "number", "minimum": row.low,
                                         "maximum": row.high},
                                        {"type": "string", "enum": [""]}]}
        else:
            schema = {"type": "string", "enum": ["yes", "no", ""]}
        out.append(Field(name, schema, "empty: inherit (the next policy decides)"))
    return out


def throttle_fields() -> list[Field]:
    """`period` (required), then the limits, each optional."""
    return [Field("period", {"type": "integer", "minimum": 1, "maximum": MAX_PERIOD},
                  "seconds", required=True),
            *(Field(name, {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
                    "0: no limit; left out: unchanged (-1, ask the next setting, on a new "
                    "one)") for name in THROTTLE_LIMITS)]


# -- replies' `_data`, from model/render.py's tables ----------------------------------------

_SCALAR: Schema = {"type": ["string", "integer"]}
_ANY_VALUE: Schema = {"oneOf": [_SCALAR, {"type": "array", "items": _SCALAR},
                                {"type": "object"}]}


def attribute_schema(attribute: str) -> Schema:
    """How render_entry shows an attribute: an integer or a string, one value or a list."""
    key = attribute.lower()
    one: Schema = {"type": "integer"} if key in render.NUMBERS else {"type": "string"}
    return one if key in render.SINGLE_VALUED else {"type": "array", "items": one}


def entry_schema(kind: Kind, extras: dict[str, Schema] | None = None,
                 hidden_by: str | None = None) -> Schema:
    """An account as a GET shows it: its attributes by their LDAP names (those the kind's
    rows write described; others the entry holds shown by the same rules), `accountSetting`
    as an object; `extras`: what the reply adds to the entry. The password hash never, or,
    for the kinds whose setting `hidden_by` the operator may clear, only then."""
    properties: Schema = {}
    for row in kind.params:
        if row.attribute and not row.setting:
            properties[row.attribute] = attribute_schema(row.attribute)
    properties["objectClass"] = attribute_schema("objectClass")
    properties["accountSetting"] = {"type": "object", "additionalProperties": _ANY_VALUE}
    properties.update(extras or {})
    schema: Schema = {"type": "object", "properties": properties,
                      "additionalProperties": _ANY_VALUE}
    if hidden_by:
        properties["userPassword"] = {
            **attribute_schema("userPassword"),
            "description": f"the password hash: only when {hidden_by} does not name it "
                           "(it does by default), and never to a normal admin of an account "
                           "with privileges beyond its own"}
    else:
        schema["not"] = {"required": ["userPassword"]}
    return schema


def listing_schema(kind: Kind, extras: dict[str, Schema] | None = None,
                   hidden_by: str | None = None) -> Schema:
    """A domain's accounts: entries, or their addresses (`email_only`, `name_only`)."""
    return {"type": "array", "items": {"oneOf": [entry_schema(kind, extras, hidden_by),
                                                  {"type": "string"}]}}


def spam_policy_schema() -> Schema:
    return {"type": "object", "additionalProperties": False, "properties": {
        name: {"type": ["number", "null"]} if isinstance(row, Score)
        else {"enum": ["yes", "no", None]} for name, row in SPAM_POLICY.items()}}


# -- the endpoints --------------------------------------------------------------------------

_MAIL: Schema = {"type": "string", "pattern": f"^{MAIL_PATTERN}$",
                 "maxLength": MAX_MAIL_LENGTH, "description": "an e-mail address"}
_DOMAIN: Schema = {"type": "string", "pattern": f"^{DOMAIN_PATTERN}$",
                   "maxLength": MAX_DOMAIN_LENGTH, "description": "a domain name"}
_TARGET: Schema = {"type": "string", "maxLength": MAX_MAIL_LENGTH,
                   "pattern": f"^(?:global|@?{DOMAIN_PATTERN}|{MAIL_PATTERN})$",
                   "description": "`global`, a domain, `@domain` or a user's address"}
_WBLIST_TARGET: Schema = {"type": "string", "maxLength": MAX_MAIL_LENGTH,
                          "pattern": f"^(?:global|{DOMAIN_PATTERN}|{MAIL_PATTERN})$",
                          "description": "`global`, a domain or a user's address"}
_DAYS: Schema = {"type": "string", "pattern": "^[0-9]+$",
                 "description": "days to keep the mailboxes before they are purged"}
_HEALTH: Schema = {"type": "object", "description": "`status` for everyone; for a global "
                   "admin each LDAP URI (with its contextCSN and lag behind the leader) and "
                   "database, with its latency, the leader this worker writes through, "
                   "`writes_held` (after a failover, creates wait for the new leader) and "
                   "`key_id`, a fingerprint of SECRET_KEY"}
_STRINGS: Schema = {"type": "array", "items": {"type": "string"}}
_BULK: Schema = {"type": "object", "required": ["changed", "failed"], "properties": {
    "changed": {"type": "integer", "minimum": 0, "description": "entries changed"},
    "failed": {"type": "array", "items": {"type": "object", "additionalProperties": {
        "type": "string"}}, "description": "the entries not changed, each with its code"}}}
_THROTTLE: Schema = {"type": "object", "additionalProperties": False, "properties": {
    name: {"type": "integer"} for name in ("period", *THROTTLE_LIMITS)}}
_GREYLISTING: Schema = {"type": "object", "required": ["status"], "properties": {
    "status": {"enum": ["enable", "disable", None]}}}
_GREYLISTING_ROWS: Schema = {"type": "array", "items": {
    "type": "object", "required": ["account", "sender", "status", "comment"], "properties": {
        "account": {"type": "string"}, "sender": {"type": "string"},
        "status": {"enum": ["enable", "disable"]}, "comment": {"type": ["string", "null"]}}}}
_DISCARDED: Schema = {"type": "object", "required": ["discarded"], "properties": {
    "discarded": {**_STRINGS, "description": "the items of `addresses` that are none of the "
                  "forms a list takes, as given (nothing was done with them)"}}}
_LISTING = ("email_only", "disabled_only")
_PASSWORD = named("password", description="the password to check", required=True)


# The settings that hide attributes of a kind's GET replies (config.py).
_HIDDEN_BY = {"user": "API_HIDDEN_USER_PROFILES", "admin": "API_HIDDEN_ADMIN_PROFILES"}
_LOGIN_TIME: Schema = {"type": ["integer", "null"], "description": "epoch seconds"}
_USAGE: dict[str, Schema] = {
    "used_quota": {"type": "object", "required": ["size", "messages"], "properties": {
        "size": {"type": "integer", "minimum": 0, "description": "bytes"},
        "messages": {"type": "integer", "minimum": 0}},
        "description": "what Dovecot recorded in iRedAdmin's `used_quota` (zeros before)"},
    "last_login": {"oneOf": [{"type": "null"}, {
        "type": "object", "properties": {p: _LOGIN_TIME for p in ("imap", "pop3", "lda")}}],
        "description": "the last login by protocol, from iRedAdmin's `last_login` (null: "
                       "none recorded)"}}


def listing_fields(*flags: str) -> Fields:
    """A listing's yes/no flags, and `limit` and `cursor` of its pages."""
    def rows() -> list[Field]:
        return [*named(*flags, schema=YES_NO)(),
                Field("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                      "answer at most this many entries, in name order, with `_cursor` "
                      "(the next page's cursor, null on the last page) beside `_data`"),
                Field("cursor", {"type": "string", "minLength": 1},
                      "the `_cursor` of the previous page: go on after it (with its `limit` "
                      "unless `limit` is given)")]
    return rows


_EXTRAS: dict[str, dict[str, Schema]] = {
    "domain": {"catchall": _STRINGS}, "user": {"managed_domains": _STRINGS, **_USAGE},
    "admin": {"managed_domains": _STRINGS}, "alias": {"members": _STRINGS},
    "list": {"members": _STRINGS}}


def _account(kind: Kind, noun: str) -> tuple[Op, ...]:
    return (Op("GET", f"Get a {noun}",
               data=entry_schema(kind, _EXTRAS[kind.name], _HIDDEN_BY.get(kind.name))),
            Op("POST", f"Create a {noun}", kind_fields(kind, creating=True)),
            Op("PUT", f"Update a {noun}", kind_fields(kind, creating=False)),
            Op("DELETE", f"Delete a {noun}"))


def _wblist_ops() -> tuple[Op, ...]:
    forms = ("an IP address, an IPv4 or IPv6 network, `user@domain`, `@domain`, "
             "`@.domain` or `@.`; comma-separated")
    return (Op("GET", "The addresses on a white- or blacklist", data=_STRINGS),
            Op("POST", "Add addresses (taken off the other list of the direction)",
               named(ADDRESSES, description=forms, required=True), data=_DISCARDED),
            Op("PUT", "Remove the addresses given",
               named(ADDRESSES, description=forms, required=True), data=_DISCARDED),
            Op("DELETE", "Remove every address of the list"))


def _endpoints() -> tuple[Endpoint, ...]:
    spam = (Op("GET", "Get a spam policy", data=spam_policy_schema()),
            Op("PUT", "Set a spam policy", spam_policy_fields),
            Op("DELETE", "Delete a spam policy (inherit again)"))
    group_delete = Op("DELETE", "Delete it", named(*LIST_DELETE_FLAGS, schema=YES_NO,
                                                   description="accepted; changes nothing"))
    return (
        Endpoint("/api/login", "session", (Op(
            "POST", "Log in: sets the session cookie",
            named("username", "password", required=True), public=True),)),
        Endpoint("/api/logout", "session", (Op("POST", "Log out: ends the session",
                                               public=True),)),
        Endpoint("/api/health", "service", (
            Op("GET", "Whether every backend answers (details for a global admin)",
               public=True, data=_HEALTH),
            Op("HEAD", "Whether every backend answers", public=True))),
        Endpoint("/api/openapi.json", "service", (
            Op("GET", "This document", public=True, raw=("application/json",)),)),
        Endpoint("/api/docs", "service", (
            Op("GET", "The API's documentation page", public=True, raw=("text/html",)),)),
        Endpoint("/api/docs/{asset}", "service", (
            Op("GET", "A file of the documentation page", public=True,
               raw=("text/javascript", "text/css")),),
            {"asset": {"type": "string", "enum": list(DOCS_ASSETS)}}),
        Endpoint("/api/domains", "domains", (
            Op("GET", "List the domains", listing_fields("name_only", "disabled_only"),
               data=listing_schema(DOMAIN), paged=True),)),
        Endpoint("/api/domain/{domain}", "domains", (
            Op("GET", "Get a domain", data=entry_schema(DOMAIN, _EXTRAS["domain"])),
            Op("POST", "Create a domain", kind_fields(DOMAIN, creating=True)),
            Op("PUT", "Update a domain", kind_fields(DOMAIN, creating=False),
               data={"oneOf": [_BULK, {"type": "null"}]}),
            Op("DELETE", "Delete a domain and its accounts", data=_BULK)),
            {"domain": _DOMAIN}),
        Endpoint("/api/domain/{domain}/keep_mailbox_days/{days}", "domains", (
            Op("DELETE", "Delete a domain, keeping its mailboxes for some days",
               data=_BULK),), {"domain": _DOMAIN, "days": _DAYS}),
        Endpoint("/api/domain/admins/{domain}", "domains", (
            Op("GET", "List a domain's admins", data=_STRINGS),
            Op("PUT", "Grant or revoke a domain's admins", set_fields(ADMINS, "admin"))),
            {"domain": _DOMAIN}),
        Endpoint("/api/admin/{mail}", "admins", _account(ADMIN, "standalone admin"),
                 {"mail": _MAIL}),
        Endpoint("/api/verify_password/admin/{mail}", "admins", (
            Op("POST", "Check a standalone admin's password", _PASSWORD),), {"mail": _MAIL}),
        Endpoint("/api/user/{mail}", "users", _account(USER, "mail user"), {"mail": _MAIL}),
        Endpoint("/api/user/{mail}/keep_mailbox_days/{days}", "users", (
            Op("DELETE", "Delete a mail user, keeping the mailbox for some days"),),
            {"mail": _MAIL, "days": _DAYS}),
        Endpoint("/api/users/{domain}", "users", (
            Op("GET", "List a domain's mail users", listing_fields(*_LISTING, WITH_USAGE),
               data=listing_schema(USER, _USAGE, hidden_by=_HIDDEN_BY["user"]), paged=True),
            Op("PUT", "Update every mail user of a domain",
               kind_fields(USER, creating=False, only=BULK_PARAMS), data=_BULK)),
            {"domain": _DOMAIN}),
        Endpoint("/api/user/{mail}/change_email/{new_mail}", "users", (
            Op("POST", "Change a mail user's address"),), {"mail": _MAIL, "new_mail": _MAIL}),
        Endpoint("/api/verify_password/user/{mail}", "users", (
            Op("POST", "Check a mail user's password", _PASSWORD),), {"mail": _MAIL}),
        Endpoint("/api/alias/{mail}", "aliases", _account(ALIAS, "mail alias"),
                 {"mail": _MAIL}),
        Endpoint("/api/aliases/{domain}", "aliases", (
            Op("GET", "List a domain's aliases", listing_fields(*_LISTING),
               data=listing_schema(ALIAS, _EXTRAS["alias"]), paged=True),),
            {"domain": _DOMAIN}),
        Endpoint("/api/alias/{mail}/change_email/{new_mail}", "aliases", (
            Op("POST", "Change an alias's address"),), {"mail": _MAIL, "new_mail": _MAIL}),
        Endpoint("/api/maillist/{mail}", "mailing lists",
                 (*_account(LIST, "mailing list")[:3], group_delete), {"mail": _MAIL}),
        Endpoint("/api/maillists/{domain}", "mailing lists", (
            Op("GET", "List a domain's mailing lists", listing_fields("email_only"),
               data=listing_schema(LIST, _EXTRAS["list"]), paged=True),),
            {"domain": _DOMAIN}),
        Endpoint("/api/ldif/{kind}/{name}", "export", (
            Op("GET", "An account (and what belongs to it) as LDIF, in `_data`",
               data={"type": "string"}),),
            {"kind": {"type": "string", "enum": list(BY_API_NAME)},
             "name": {"type": "string", "description": "a domain or an address"}}),
        Endpoint("/api/spampolicy/global", "spam policy", spam),
        Endpoint("/api/spampolicy/domain/{name}", "spam policy", spam, {"name": _DOMAIN}),
        Endpoint("/api/spampolicy/user/{name}", "spam policy", spam, {"name": _MAIL}),
        Endpoint("/api/wblist/{direction}/{listing}/{target}", "white/blacklists",
                 _wblist_ops(), {"direction": {"type": "string", "enum": list(DIRECTIONS)},
                                 "listing": {"type": "string", "enum": list(LISTS)},
                                 "target": _WBLIST_TARGET}),
        Endpoint("/api/throttle/{target}/{kind}", "throttling", (
            Op("GET", "Get a throttle setting", data=_THROTTLE),
            Op("POST", "Set a throttle setting", throttle_fields),
            Op("DELETE", "Delete a throttle setting")),
            {"target": _TARGET, "kind": {"type": "string", "enum": list(THROTTLE_KINDS)}}),
        Endpoint("/api/greylisting/all", "greylisting", (
            Op("GET", "Every greylisting setting", data=_GREYLISTING_ROWS),)),
        Endpoint("/api/greylisting/whitelist_spf_domains", "greylisting", (
            Op("GET", "Domains whose SPF hosts skip greylisting", data=_STRINGS),
            Op("POST", "Replace, add or remove those domains",
               set_fields(SPF_DOMAINS, "domain"), data=_STRINGS))),
        Endpoint("/api/greylisting/{target}", "greylisting", (
            Op("GET", "Greylisting of a target", data=_GREYLISTING),
            Op("POST", "Enable or disable greylisting",
               named("status", schema={"type": "string", "enum": ["enable", "disable"]},
                     required=True)),
            Op("DELETE", "Delete the explicit setting (inherit again)")), {"target": _TARGET}),
        Endpoint("/api/greylisting/{target}/whitelists", "greylisting", (
            Op("GET", "Senders that skip greylisting", data=_STRINGS),
            Op("POST", "Replace, add or remove those senders", set_fields(SENDERS, "sender"),
               data=_STRINGS)), {"target": _TARGET}),
    )


# The documentation page's files (package data in iredapi_ldap/docs/).
DOCS_ASSETS = ("docs.js", "docs.css")


def endpoints() -> tuple[Endpoint, ...]:
    return _endpoints()


# -- replies --------------------------------------------------------------------------------

def _codes_pattern(codes: Iterable[Code]) -> str:
    """`_msg` of a failure: one code, or several comma-joined (password rules)."""
    names = "|".join(code.name for code in codes)
    return f"^(?:{names})(?:,(?:{names}))*$"


# Answered by gunicorn before the request reaches the API.
URI_TOO_LONG = 414


def statuses() -> dict[int, list[Code]]:
    by_status: dict[int, list[Code]] = {}
    for code in Code:
        by_status.setdefault(code.status, []).append(code)
    return by_status


def _envelope(success: bool | None, codes: Iterable[Code] | None = None,
              data: Schema | None = None, paged: bool = False) -> Schema:
    properties: Schema = {"_success": {"type": "boolean"} if success is None
                          else {"const": success}}
    if paged:
        properties["_cursor"] = {"type": ["string", "null"], "description": (
            "with `limit`: the cursor of the next page, null on the last page")}
    if codes is not None:
        properties["_msg"] = {"type": "string", "pattern": _codes_pattern(codes)}
        properties["_detail"] = {"type": "string"}
    if data is not None:
        properties["_data"] = data
    return {"type": "object", "required": ["_success"], "properties": properties}


def _responses(op: Op) -> dict[str, Any]:
    if op.method == "HEAD":
        ok: dict[str, Any] = {"description": "success (no body)"}
    elif op.raw:
        ok = {"description": "success", "content": {
            media: {"schema": {"type": "object" if media.endswith("json") else "string"}}
            for media in op.raw}}
    else:
        # API_ALWAYS_HTTP_200 answers failures with 200 too: the envelope says.
        success = _envelope(True, data={} if op.data is None else op.data, paged=op.paged)
        failure = {"$ref": "#/components/schemas/Failure"}
        ok = {"description": "success (or, with API_ALWAYS_HTTP_200, any failure)",
              "content": {"application/json": {"schema": {"oneOf": [success, failure]}}}}
    out: dict[str, Any] = {"200": ok}
    for status in statuses():
        out[str(status)] = {"$ref": f"#/components/responses/Status{status}"}
    out[str(URI_TOO_LONG)] = {"description": "the request line is longer than the HTTP "
                                             "server takes (gunicorn's limit_request_line); "
                                             "not the envelope"}
    return out


def _components() -> dict[str, Any]:
    responses = {}
    for status, codes in statuses().items():
        meaning = "; ".join(f"`{c.name}`: {c.meaning}" for c in codes)
        responses[f"Status{status}"] = {
            "description": meaning,
            "content": {"application/json": {"schema": _envelope(False, codes)}}}
    return {"schemas": {"Failure": _envelope(False, list(Code))}, "responses": responses,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie",
                                            "name": COOKIE_NAME}}}


# -- the document -----------------------------------------------------------------------------

def _property(one: Field) -> Schema:
    schema = dict(one.schema)
    text = " ".join(part for part in (schema.pop("description", ""), one.description) if part)
    if text:
        schema["description"] = text
    if one.legacy:
        schema["x-legacy-names"] = list(one.legacy)
    if one.who:
        schema["x-who"] = one.who
    return schema


def _body(params: Sequence[Field]) -> Schema:
    properties: Schema = {}
    for one in params:
        properties[one.name] = _property(one)
        for old in one.legacy:
            properties[old] = {**_property(one), "deprecated": True,
                               "description": f"legacy name of `{one.name}`"}
    schema: Schema = {"type": "object", "properties": properties,
                      "additionalProperties": False}
    required = [one.name for one in params if one.required and not one.legacy]
    if required:
        schema["required"] = required
    return schema


def _operation(endpoint: Endpoint, op: Op) -> dict[str, Any]:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", endpoint.path.removeprefix("/api/")).strip("_")
    out: dict[str, Any] = {"operationId": f"{op.method.lower()}_{slug}", "summary": op.summary,
                           "tags": [endpoint.tag], "responses": _responses(op)}
    if op.public:
        out["security"] = []
    params = op.params()
    if op.method in ("GET", "HEAD"):
        parameters = []
        for one in params:
            parameters.append({"name": one.name, "in": "query", "required": one.required,
                               "schema": _property(one)})
        if parameters:
            out["parameters"] = parameters
    elif params:
        schema = _body(params)
        out["requestBody"] = {"required": bool(schema.get("required")), "content": {
            "application/x-www-form-urlencoded": {"schema": schema},
            "application/json": {"schema": schema}}}
    return out


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint."""
    paths: dict[str, Any] = {}
    for endpoint in endpoints():
        item: dict[str, Any] = {}
        fields_ = re.findall(r"{(\w+)}", endpoint.path)
        if fields_:
            item["parameters"] = [{"name": name, "in": "path", "required": True,
                                   "schema": endpoint.path_params.get(name, {"type": "string"})}
                                  for name in fields_]
        for op in endpoint.ops:
            item[op.method.lower()] = _operation(endpoint, op)
        paths[endpoint.path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "iredapi-ldap", "version": __version__,
                 "description": "The iRedAdmin-Pro RESTful API over OpenLDAP. Every URL "
                                "answers under /iredadmin/api/ too. Parameters of GET go in "
                                "the query string, of the other methods in a form-encoded or "
                                "JSON body; values are text (`yes`/`no`, comma-separated "
                                "lists). Every reply is the envelope `{\"_success\": ..., "
                                "\"_msg\": code, \"_data\": ...}`."},
        "security": [{"session": []}],
        "paths": paths,
        "components": _components(),
    }


def counts(doc: dict[str, Any]) -> dict[str, int]:
    """Paths, operations and (body or query) parameters of a document."""
    ops = [op for item in doc["paths"].values() for key, op in item.items()
           if key != "parameters"]
    params = 0
    for op in ops:
        params += len(op.get("parameters", ()))
        body = op.get("requestBody", {}).get("content", {})
        for media in body.values():
            params += len(media["schema"]["properties"])
            break
    return {"paths": len(doc["paths"]), "operations": len(ops), "parameters": params}
