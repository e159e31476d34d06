"""Small parsers of parameter values shared by the services. Pure."""

from ..errors import BadRequest


def split_words(value):
    """A comma-separated parameter as a list: items stripped, lower-cased, empties and
    repeats dropped, order kept."""
    items = (item.strip().lower() for item in (value or "").split(","))
    return list(dict.fromkeys(item for item in items if item))


def refuse_unknown(params, allowed):
    """Raise UNKNOWN_PARAMETER naming every parameter not in `allowed`."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest("UNKNOWN_PARAMETER",
                         detail="unknown parameter(s): " + ", ".join(unknown))
