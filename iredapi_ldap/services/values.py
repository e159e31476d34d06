"""Small parsers of parameter values shared by the services. Pure."""

import datetime

from ..errors import BadRequest, Code
from ..numbers import parse_whole, whole_in_range

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
        raise BadRequest(Code.UNKNOWN_PARAMETER,
                         detail="unknown parameter(s): " + ", ".join(unknown))


def purge_date(keep_days):
    """The date a kept mailbox may be purged: today + `keep_days`; None (no number) or 0
    keep it forever, as iRedAdmin does."""
    if keep_days is None:
        return None
    days = whole_in_range(str(keep_days), 0, MAX_KEEP_DAYS)
    if days is None:
        raise BadRequest(detail="keep_mailbox_days must be a whole number of days")
    return datetime.date.today() + datetime.timedelta(days=days) if days else None


def stored_int(value):
    """A number kept as text (an accountSetting value, a counter); 0 when absent or not a
    whole number, so a malformed value left by another tool means "no limit" instead of
    an error."""
    number = parse_whole(str(value if value is not None else "0").strip())
    return 0 if number is None else number
