"""Small parsers of parameter values shared by the services. Pure."""

import datetime

from ..errors import BadRequest

MAX_KEEP_DAYS = 100 * 366


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


def purge_date(keep_days):
    """The date a kept mailbox may be purged: today + `keep_days`; None (no number) or 0
    keep it forever, as iRedAdmin does."""
    if keep_days is None:
        return None
    text = str(keep_days)
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_KEEP_DAYS:
        raise BadRequest(detail="keep_mailbox_days must be a whole number of days")
    days = int(text)
    return datetime.date.today() + datetime.timedelta(days=days) if days else None
