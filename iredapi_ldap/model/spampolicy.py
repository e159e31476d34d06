"""The spam-policy parameters of the API and the Amavisd `policy` columns behind them.

One row per parameter (facts file, section 5). Amavisd treats a NULL column as "not set here"
and falls through to the next policy by `users.priority`; so an empty parameter value means
"inherit" and writes NULL. Pure: no I/O.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import BadRequest

INHERIT = ""

# Policy column -> value to write (None: NULL, inherit).
Columns = Mapping[str, str | float | None]
# A policy row as the store reads it: column -> value (None: NULL).
Row = Mapping[str, Any]


class PolicyField(Protocol):
    """What every row of SPAM_POLICY does."""

    def encode(self, param: str, value: str) -> Columns: ...

    def decode(self, row: Row) -> str | float | None: ...


def _word(param: str, value: str) -> str:
    word = value.strip().lower()
    if word not in ("yes", "no", INHERIT):
        raise BadRequest(detail=f"{param} must be yes, no, or empty to inherit")
    return word


@dataclass(frozen=True)
class YesNo:
    """A Y/N column: `yes` -> Y, `no` -> N."""

    column: str

    def encode(self, param: str, value: str) -> Columns:
        word = _word(param, value)
        return {self.column: {"yes": "Y", "no": "N"}.get(word)}

    def decode(self, row: Row) -> str | None:
        words: dict[str | None, str] = {"Y": "yes", "N": "no"}  # NULL is looked up too
        return words.get(row.get(self.column))


@dataclass(frozen=True)
class Quarantine:
    """`yes` quarantines (named quarantine, not a lover: no delivery); `no` delivers without
    a quarantined copy (empty quarantine, lover)."""

    quarantine_column: str
    lover_column: str
    name: str

    def encode(self, param: str, value: str) -> Columns:
        word = _word(param, value)
        if word == INHERIT:
            return {self.quarantine_column: None, self.lover_column: None}
        yes = word == "yes"
        return {self.quarantine_column: self.name if yes else "",
                self.lover_column: "N" if yes else "Y"}

    def decode(self, row: Row) -> str | None:
        target = row.get(self.quarantine_column)
        if target is None:
            return None
        return "yes" if target else "no"


@dataclass(frozen=True)
class TextWhenYes:
    """`yes` stores `text`, `no` stores an empty string (Amavisd: explicitly nothing)."""

    column: str
    text: str

    def encode(self, param: str, value: str) -> Columns:
        word = _word(param, value)
        return {self.column: {"yes": self.text, "no": ""}.get(word)}

    def decode(self, row: Row) -> str | None:
        value = row.get(self.column)
        return None if value is None else ("yes" if value else "no")


@dataclass(frozen=True)
class LevelWhenYes:
    """`yes` stores a level that every message reaches; `no` stores the usual level."""

    column: str
    yes_level: float
    no_level: float

    def encode(self, param: str, value: str) -> Columns:
        word = _word(param, value)
        return {self.column: {"yes": self.yes_level, "no": self.no_level}.get(word)}

    def decode(self, row: Row) -> str | None:
        value = row.get(self.column)
        return None if value is None else ("yes" if value <= self.yes_level else "no")


@dataclass(frozen=True)
class Score:
    """A spam score written to several level columns at once."""

    columns: tuple[str, ...]
    low: float = -1000.0
    high: float = 1000.0

    def encode(self, param: str, value: str) -> Columns:
        text = value.strip()
        if text == INHERIT:
            return dict.fromkeys(self.columns)
        try:
            score = float(text)
        except ValueError:
            score = math.nan
        if not (math.isfinite(score) and self.low <= score <= self.high):
            raise BadRequest(detail=f"{param} must be a number from {self.low:g} to "
                                    f"{self.high:g}, or empty to inherit")
        return dict.fromkeys(self.columns, score)

    def decode(self, row: Row) -> float | None:
        value = row.get(self.columns[0])
        return None if value is None else (int(value) if float(value).is_integer() else value)


# iRedMail's amavisd.conf: $sa_tag_level_deflt = 2.0 (X-Spam-* headers from this score on).
USUAL_TAG_LEVEL = 2.0
ALWAYS_TAG_LEVEL = -999.0

SPAM_POLICY: dict[str, PolicyField] = {
    "bypass_spam_checks": YesNo("bypass_spam_checks"),
    "bypass_virus_checks": YesNo("bypass_virus_checks"),
    "bypass_banned_checks": YesNo("bypass_banned_checks"),
    "bypass_header_checks": YesNo("bypass_header_checks"),
    "quarantine_spam": Quarantine("spam_quarantine_to", "spam_lover", "spam-quarantine"),
    "quarantine_virus": Quarantine("virus_quarantine_to", "virus_lover", "virus-quarantine"),
    "quarantine_banned": Quarantine("banned_quarantine_to", "banned_files_lover",
                                    "banned-quarantine"),
    "quarantine_bad_header": Quarantine("bad_header_quarantine_to", "bad_header_lover",
                                        "bad-header-quarantine"),
    "prefix_spam_in_subject": TextWhenYes("spam_subject_tag2", "[SPAM] "),
    "always_insert_x_spam_headers": LevelWhenYes("spam_tag_level", ALWAYS_TAG_LEVEL,
                                                 USUAL_TAG_LEVEL),
    "spam_score": Score(("spam_tag2_level", "spam_kill_level")),
}


def encode_spam_policy(params: Mapping[str, str]) -> dict[str, str | float | None]:
    """Policy column values for the given API parameters (only those given)."""
    columns: dict[str, str | float | None] = {}
    for name, value in params.items():
        columns.update(SPAM_POLICY[name].encode(name, value))
    return columns


def decode_spam_policy(row: Row | None) -> dict[str, str | float | None]:
    """API parameter -> value (None: inherited) for a policy row (None: no row)."""
    row = row or {}
    return {name: field.decode(row) for name, field in SPAM_POLICY.items()}
