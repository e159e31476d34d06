"""The codecs of the parameter rows (model/params.py): each checks a parameter's text,
encodes it as stored values and decodes stored values back to that text. Pure."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..addresses import MAX_MAIL_LENGTH, is_email
from ..errors import BadRequest, Code
from ..numbers import parse_whole
from .parsing import parse_domain


class Codec:
    """Turns a parameter's text into stored values (a list; empty means remove), and stored
    values back into the text a client would send for them."""

    def encode(self, param: str, text: str) -> list[str]:
        raise NotImplementedError

    def decode(self, values: Sequence[str]) -> str:
        """The parameter text of `values` (empty when none): `encode(decode(v)) == v`."""
        return str(values[0]) if values else ""


@dataclass(frozen=True)
class Text(Codec):
    max_length: int = 255
    allow_empty: bool = True

    def encode(self, param: str, text: str) -> list[str]:
        value = text.strip()
        if not value and not self.allow_empty:
            raise BadRequest(detail=f"{param} must not be empty")
        if len(value) > self.max_length:
            raise BadRequest(detail=f"{param} is longer than {self.max_length} characters")
        if any(ord(c) < 32 for c in value):
            raise BadRequest(detail=f"{param} contains control characters")
        return [value] if value else []


@dataclass(frozen=True)
class TextList(Codec):
    """A comma-separated list of short texts (e.g. phone numbers); empty removes them."""

    max_length: int = 64

    def encode(self, param: str, text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        for item in items:
            Text(self.max_length).encode(param, item)
        return list(dict.fromkeys(items))

    def decode(self, values: Sequence[str]) -> str:
        return ",".join(values)


@dataclass(frozen=True)
class Pattern(Codec):
    """One value matching a regular expression; empty removes it."""

    regex: str
    meaning: str

    def encode(self, param: str, text: str) -> list[str]:
        value = text.strip()
        if value and not re.fullmatch(self.regex, value):
            raise BadRequest(detail=f"{param} must be {self.meaning}")
        return [value] if value else []


@dataclass(frozen=True)
class Integer(Codec):
    """A whole number in [low, high]; `-1` is allowed where iRedMail uses it ("none")."""

    low: int = 0
    high: int = 2**31 - 1
    allow_minus_one: bool = False

    def encode(self, param: str, text: str) -> list[str]:
        number = parse_whole(text.strip())
        if number is None:
            raise BadRequest(detail=f"{param} must be a whole number")
        if number == -1 and self.allow_minus_one:
            return [str(number)]
        if not self.low <= number <= self.high:
            raise BadRequest(detail=f"{param} must be from {self.low} to {self.high}")
        return [str(number)]


@dataclass(frozen=True)
class Choice(Codec):
    """One of a fixed set of words, stored as given in `stored` (parameter word -> value)."""

    stored: tuple[tuple[str, str | None], ...]  # ((word, stored value or None), ...)

    def encode(self, param: str, text: str) -> list[str]:
        word = text.strip().lower()
        for choice, value in self.stored:
            if word == choice:
                return [value] if value is not None else []
        raise BadRequest(detail=f"{param} must be one of "
                                f"{', '.join(choice for choice, _ in self.stored)}")

    def decode(self, values: Sequence[str]) -> str:
        stored = values[0] if values else None
        return next((word for word, value in self.stored if value == stored), "")


STATUS = Choice((("active", "active"), ("disabled", "disabled")))
YES_NO = Choice((("yes", "yes"), ("no", None)))


@dataclass(frozen=True)
class Language(Codec):
    """A locale name such as `en_US` or `de`; empty removes it."""

    def encode(self, param: str, text: str) -> list[str]:
        value = text.strip()
        if value and not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", value):
            raise BadRequest(detail=f"{param} must look like en_US")
        return [value] if value else []


@dataclass(frozen=True)
class Email(Codec):
    """One address, lower-cased; empty removes it when `allow_empty`."""

    allow_empty: bool = True

    def encode(self, param: str, text: str) -> list[str]:
        value = text.strip().lower()
        if not value and self.allow_empty:
            return []
        if len(value) > MAX_MAIL_LENGTH or not is_email(value):
            raise BadRequest(Code.INVALID_MAIL, detail=f"{param}: not an e-mail address: {value}")
        return [value]


@dataclass(frozen=True)
class Transport(Codec):
    """A Postfix transport such as `dovecot`, `smtp:[host]:25` or `relay:[1.2.3.4]`."""

    def encode(self, param: str, text: str) -> list[str]:
        value = text.strip()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*(:[A-Za-z0-9.\[\]:_/-]*)?", value or "-") \
                or len(value) > 255:
            raise BadRequest(detail=f"{param} is not a Postfix transport")
        return [value]


@dataclass(frozen=True)
class MegabytesSetting(Codec):
    """A size in MB kept as `<n>:MB` (e.g. accountSetting `domainQuota:2048:MB`); 0 removes
    it, which means unlimited."""

    high: int = 2**40

    def encode(self, param: str, text: str) -> list[str]:
        number = int(Integer(0, self.high).encode(param, text)[0])
        return [f"{number}:MB"] if number else []

    def decode(self, values: Sequence[str]) -> str:
        return str(values[0]).split(":")[0] if values else "0"


MB = 1024 * 1024


@dataclass(frozen=True)
class Megabytes(Codec):
    """A size the API gives in MB and the directory keeps in bytes (`mailQuota`)."""

    high: int

    def encode(self, param: str, text: str) -> list[str]:
        number = parse_whole(text.strip())
        if number is None or not 0 <= number <= self.high:
            raise BadRequest(detail=f"{param} must be a whole number of MB")
        return [str(number * MB)]

    def decode(self, values: Sequence[str]) -> str:
        return str(int(values[0]) // MB) if values else "0"


@dataclass(frozen=True)
class RelayHost(Codec):
    """A Postfix next hop such as `[192.0.2.2]:25`, `smtp:[mx.example.com]:587`; empty
    removes it."""

    def encode(self, param: str, text: str) -> list[str]:
        value = text.strip()
        pattern = r"([a-z0-9-]+:)?(\[[A-Za-z0-9.:-]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?"
        if value and (len(value) > 255 or not re.fullmatch(pattern, value)):
            raise BadRequest(detail=f"{param} must look like [host]:port or smtp:[host]:port")
        return [value] if value else []


@dataclass(frozen=True)
class Word(Codec):
    """One lower-case word: of a fixed set (`allowed`), or else any word of letters, digits,
    `.`, `_` and `-` (a mail user's custom service, say)."""

    allowed: tuple[str, ...] | None = None
    what: str = "name"

    def encode(self, param: str, text: str) -> list[str]:
        word = text.strip().lower()
        if self.allowed is None and not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", word):
            raise BadRequest(detail=f"not a {self.what}: {word}")
        if self.allowed is not None and word not in self.allowed:
            raise BadRequest(detail=f"unknown {self.what} {word} "
                                    f"(one of {', '.join(self.allowed)})")
        return [word]


@dataclass(frozen=True)
class DomainName(Codec):
    """A domain name (INVALID_DOMAIN_NAME otherwise), lower-cased."""

    def encode(self, param: str, text: str) -> list[str]:
        return [parse_domain(text)]


@dataclass(frozen=True)
class Verbatim(Codec):
    """A value passed on as given; what it must be is checked where it is used."""

    def encode(self, param: str, text: str) -> list[str]:
        return [text]
