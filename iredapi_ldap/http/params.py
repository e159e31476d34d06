"""Request parameters: query string, form-encoded body or a JSON object body.

Values are strings, as the iRedAdmin-Pro API sends them (`yes`/`no`, comma-separated lists);
a JSON body's booleans, numbers and lists are turned into that form. Empty values are kept:
`catchall=` means "remove", not "absent".
"""

import json
from urllib.parse import parse_qsl

from ..errors import BadRequest, PayloadTooLarge
from ..services.values import refuse_unknown

MAX_BODY_BYTES = 1024 * 1024


class Params(dict):
    """Parameter name -> string value."""

    def only(self, *allowed):
        """Raise UNKNOWN_PARAMETER naming every parameter not in `allowed`."""
        refuse_unknown(self, allowed)
        return self


def read_params(req):
    """All parameters of the request (body values win over query-string values)."""
    params = Params(_pairs(req.query_string or "", "query string"))
    if req.method in ("POST", "PUT", "DELETE", "PATCH"):
        params.update(_body_params(req))
    return params


def _body_params(req):
    body = req.bounded_stream.read(MAX_BODY_BYTES + 1)
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
    for name, value in parse_qsl(text, keep_blank_values=True):
        if name in out:
            raise BadRequest(detail=f"parameter {name} given more than once in the {where}")
        out[name] = value
    return out


def _json_params(text):
    try:
        data = json.loads(text)
    except ValueError:
        raise BadRequest(detail="the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(detail="a JSON body must be an object")
    return {str(name): _json_value(name, value) for name, value in data.items()}


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


def exclusive(params, whole, *parts):
    """Refuse `whole` together with any of `parts` (e.g. `senders` with `addSenders`)."""
    clash = [part for part in parts if part in params]
    if whole in params and clash:
        raise BadRequest("CONFLICTING_PARAMETERS",
                         detail=f"{whole} conflicts with {', '.join(clash)}")


def require_one_of(params, *names):
    """Refuse a request that gives none of `names`."""
    if not any(name in params for name in names):
        raise BadRequest("MISSING_PARAMETER", detail="give at least one of " + ", ".join(names))
