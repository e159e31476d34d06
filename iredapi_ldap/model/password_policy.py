"""Password rules: global settings (MIN/MAX_PASSWD_LENGTH, PASSWORD_HAS_*) and, for mail
users, the domain's own lengths. Codes as iRedAdmin's `verify_new_password` returns them,
comma-joined when several rules fail (facts file, section 4)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .. import passwords
from ..errors import BadRequest, Code

if TYPE_CHECKING:
    from ..config import Settings

# iRedAdmin's PASSWORD_SPECIAL_CHARACTERS (libs/default_settings.py).
SPECIAL_CHARACTERS = "#$%&*+-,.:;!=<>'\"?@[]/(){}_`~"


def check_new_password(password: str, settings: Settings, min_length: int | None = None,
                       max_length: int | None = None) -> None:
    """Raise BadRequest with the PW_* code(s) the password breaks.

    `min_length`/`max_length` (a domain's own) replace the global lengths when given; no
    password is longer than `passwords.max_length` of the scheme it will be hashed with
    (256 characters; 72 for bcrypt), whatever they say.
    """
    if not password:
        raise BadRequest(Code.PW_EMPTY, detail="the password is empty")
    if not password.isascii():
        raise BadRequest(Code.PW_NON_ASCII, detail="the password has non-ASCII characters")
    low = min_length if min_length else settings.min_passwd_length
    longest = passwords.max_length(settings.default_password_scheme)
    high = min(max_length or settings.max_passwd_length or longest, longest)
    broken = [code for code, failed in (
        (Code.PW_SHORTER_THAN_MIN_LENGTH, len(password) < low),
        (Code.PW_GREATER_THAN_MAX_LENGTH, bool(high) and len(password) > high),
        (Code.PW_NO_LETTER, settings.password_has_letter
         and not any(c.isalpha() for c in password)),
        (Code.PW_NO_UPPERCASE, settings.password_has_uppercase
         and not any(c.isupper() for c in password)),
        (Code.PW_NO_DIGIT_NUMBER, settings.password_has_number
         and not any(c.isdigit() for c in password)),
        (Code.PW_NO_SPECIAL_CHAR, settings.password_has_special_char
         and not any(c in SPECIAL_CHARACTERS for c in password)),
    ) if failed]
    if broken:
        raise BadRequest(broken, detail=_describe(broken, low, high))


def _describe(codes: Iterable[Code], low: int, high: int) -> str:
    words = {Code.PW_SHORTER_THAN_MIN_LENGTH: f"is shorter than {low} characters",
             Code.PW_GREATER_THAN_MAX_LENGTH: f"is longer than {high} characters",
             Code.PW_NO_LETTER: "has no letter", Code.PW_NO_UPPERCASE: "has no upper-case letter",
             Code.PW_NO_DIGIT_NUMBER: "has no digit",
             Code.PW_NO_SPECIAL_CHAR: "has no special character"}
    return "the password " + ", ".join(words[c] for c in codes)
