"""Whole numbers written as text, by clients or in the directory. Pure.

Python's `int()` refuses strings of more than 4 300 digits with a ValueError, and accepts
surrounding whitespace, `+`, `_` separators and non-ASCII digits; none of that is a number
an iRedMail attribute or column can hold. Every number the API reads goes through here.
"""

import re

MAX_DIGITS = 19  # 2**63 - 1, the largest column the policy tables have, has 19 digits
_WHOLE = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")


def parse_whole(text: object) -> int | None:
    """`text` as an int when it is an optional `-` and 1 to 19 ASCII digits, else None."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        return None
    return int(text)


def whole_in_range(text: object, low: int, high: int) -> int | None:
    """`text` as an int within [low, high], else None."""
    number = parse_whole(text)
    return number if number is not None and low <= number <= high else None
