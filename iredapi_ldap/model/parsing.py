"""Parsers of identifiers and parameter values, shared by the model, the services and the
HTTP layer. Pure.

Nothing is trimmed from an identifier: it matches whole or not at all.
"""

import datetime
import re
from collections.abc import Iterable

from ..addresses import is_domain, is_email
from ..directory.escaping import escape_dn_value
from ..errors import BadRequest, Code
from ..numbers import parse_whole, whole_in_range

MAX_KEEP_DAYS = 100 * 366


def split_words(value: str | None) -> list[str]:
    """A comma-separated parameter as a list: items stripped, lower-cased, empties and
    repeats dropped, order kept."""
    items = (item.strip().lower() for item in (value or "").split(","))
    return list(dict.fromkeys(item for item in items if item))


def refuse_unknown(params: Iterable[str], allowed: Iterable[str]) -> None:
    """Raise UNKNOWN_PARAMETER naming every parameter not in `allowed`."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(Code.UNKNOWN_PARAMETER,
                         detail="unknown parameter(s): " + ", ".join(unknown))


def purge_date(keep_days: str | int | None) -> datetime.date | None:
    """The date a kept mailbox may be purged: today + `keep_days`; None (no number) or 0
    keep it forever, as iRedAdmin does."""
    if keep_days is None:
        return None
    days = whole_in_range(str(keep_days), 0, MAX_KEEP_DAYS)
    if days is None:
        raise BadRequest(detail="keep_mailbox_days must be a whole number of days")
    return datetime.date.today() + datetime.timedelta(days=days) if days else None


def stored_int(value: object) -> int:
    """A number kept as text (an accountSetting value, a counter); 0 when absent or not a
    whole number, so a malformed value left by another tool means "no limit" instead of
    an error."""
    number = parse_whole(str(value if value is not None else "0").strip())
    return 0 if number is None else number


def parse_domain(text: str | None) -> str:
    """A domain name from the URL or a parameter: lower-cased and valid, or INVALID_DOMAIN_NAME.

    Internationalised names must come IDNA-encoded (`xn--...`).
    """
    name = (text or "").lower()
    if not is_domain(name):
        raise BadRequest(Code.INVALID_DOMAIN_NAME, detail=f"not a valid domain name: {text!r}")
    return name


def parse_mail(text: str | None) -> str:
    """Any e-mail address (a standalone admin's, say), lower-cased, or INVALID_MAIL."""
    mail = (text or "").lower()
    if not is_email(mail):
        raise BadRequest(Code.INVALID_MAIL, detail=f"not an e-mail address: {text!r}")
    return mail


# iRedAdmin's address pattern for accounts one logs in with (is_auth_email): word characters,
# `-`, `#`, `&` and dots; no `+` (it starts an address extension), `=`, `/` or `*`.
_NEW_LOCAL_PART = re.compile(r"[a-z0-9_#&-]+(\.[a-z0-9_#&-]+)*")


def parse_user_mail(text: str | None, new: bool = False) -> str:
    """A user's address, lower-cased; a new one must match iRedAdmin's stricter pattern."""
    mail = (text or "").lower()
    if not is_email(mail) or (new and not _NEW_LOCAL_PART.fullmatch(mail.split("@")[0])):
        raise BadRequest(Code.INVALID_MAIL, detail=f"not a valid user address: {text!r}")
    # A list's external members live at memberOfGroup=<list>: the longest RDN a new
    # address gets.
    if new and not rdn_fits("memberOfGroup", mail):
        raise BadRequest(Code.INVALID_MAIL, detail="the address is longer than the directory "
                                                "can store")
    return mail


# slapd's back-mdb keeps an entry's RDN twice (as given and normalised) in one database key
# of at most 511 bytes, and refuses a longer RDN with an "other" error: 245 characters is the
# longest that fits (measured on slapd 2.5: domainName values of 234 characters).
MAX_RDN_LENGTH = 245


def rdn_fits(attribute: str, value: str) -> bool:
    """Whether the RDN `attribute=value` is short enough for slapd to store."""
    return len(f"{attribute}={escape_dn_value(value)}".encode()) <= MAX_RDN_LENGTH
