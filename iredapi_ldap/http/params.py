"""Request parameters: the query string of a GET, or the form-encoded or JSON object body
of the other methods.

Values are strings, as the iRedAdmin-Pro API sends them (`yes`/`no`, comma-separated lists);
a JSON body's booleans, numbers and lists are turned into that form. Empty values are kept:
`catchall=` means "remove", not "absent".

Only GET reads the query string: a URL lands in access logs and proxy logs, so parameters
of writes (passwords among them) must travel in the body, and a write with a query string
is refused rather than half-read. Everything is strict: a parameter named twice, a
percent-escape that is not UTF-8, a lone surrogate or a JSON document too deep to parse is
INVALID_PARAMETER, never a guess.
"""

import json
from urllib.parse import parse_qsl

from ..errors import BadRequest, Code, PayloadTooLarge
from ..model.parsing import refuse_unknown

MAX_BODY_BYTES = 1024 * 1024


class Params(dict):
    """Parameter name -> string value."""

    def only(self, *allowed):
        """Raise UNKNOWN_PARAMETER naming every parameter not in `allowed`."""
        refuse_unknown(self, allowed)
        return self


def read_params(req):
    """All parameters of the request: a GET's query string, any other method's body. Kept
    in `req.context.params` too, for the admin log (http/audit.py: their names only)."""
    if req.method in ("GET", "HEAD"):
        params = Params(_pairs(req.query_string or "", "query string"))
    elif req.query_string:
        raise BadRequest(detail=f"the parameters of {req.method} go in the request body, "
                                "not in the URL")
    else:
        params = Params(_body_params(req))
    req.context.params = params
    return params


def _read_body(req):
    """The body, at most MAX_BODY_BYTES + 1 bytes of it. A chunked body (no Content-Length)
    is read from the server's de-chunked stream, which gunicorn ends at the last chunk."""
    if req.content_length is None and req.env.get("wsgi.input_terminated") \
            and "chunked" in (req.get_header("Transfer-Encoding") or "").lower():
        return req.stream.read(MAX_BODY_BYTES + 1)
    return req.bounded_stream.read(MAX_BODY_BYTES + 1)


def _body_params(req):
    body = _read_body(req)
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(detail=f"the body exceeds {MAX_BODY_BYTES} bytes")
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(detail="the body is not UTF-8") from None
    if (req.content_type or "").split(";")[0].strip().lower() == "application/json":
        return _json_params(text)
    return _pairs(text, "body")


def _pairs(text, where):
    out = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(detail=f"the {where} has a percent-escape that is not UTF-8") \
            from None
    for name, value in pairs:
        if name in out:
            raise BadRequest(detail=f"parameter {name} given more than once in the {where}")
        out[name] = value
    return out


def _json_params(text):
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise BadRequest(detail="the JSON body is nested too deeply") from None
    except ValueError as exc:
        detail = str(exc) if isinstance(exc, _DuplicateKey) else "the body is not valid JSON"
        raise BadRequest(detail=detail) from None
    if not isinstance(data, dict):
        raise BadRequest(detail="a JSON body must be an object")
    params = {name: _json_value(name, value) for name, value in data.items()}
    for name, value in params.items():
        if not (_is_text(name) and _is_text(value)):
            raise BadRequest(detail="the JSON body has a lone surrogate (\\ud800-\\udfff)")
    return params


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs):
    out = {}
    for name, value in pairs:
        if name in out:
            raise _DuplicateKey(f"parameter {name} given more than once in the body")
        out[name] = value
    return out


def _is_text(value):
    """Whether `value` can be written as UTF-8 (JSON's \\ud800 escapes make strings that
    cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_value(name, value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return ",".join(str(v) for v in value)
    raise BadRequest(detail=f"parameter {name}: expected a string, number, boolean or list")


def flag(params, name, default=False):
    """A yes/no parameter as a bool; anything else is INVALID_PARAMETER."""
    value = params.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in ("yes", "no"):
        raise BadRequest(detail=f"{name} must be yes or no")
    return word == "yes"


def require_one_of(params, *names):
    """Refuse a request that gives none of `names`."""
    if not any(name in params for name in names):
        raise BadRequest(Code.MISSING_PARAMETER, detail="give at least one of " + ", ".join(names))
