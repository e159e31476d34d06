"""The API's error codes and exceptions.

`Code` is the one catalogue of the `_msg` codes a client may receive: each is declared once,
with its HTTP status and a one-line meaning (README's table is checked against it by
tests/unit/test_error_catalogue.py). The exceptions below are how code raises them: the class
says what kind of failure it is (callers catch by class), the `Code` says what the client sees,
and the HTTP status comes from the code. An exception takes only catalogue entries, so a code
cannot be made up at a raise site.

Nothing here knows about Falcon or ldap3: services and adapters raise these, and the HTTP layer
renders them in one place (`http/envelope.py`). `detail` is a human-readable sentence that may
be shown to the client; it must never contain a traceback or a server error text verbatim.
"""

from collections.abc import Iterable
from enum import Enum, unique


@unique
class Code(Enum):
    """Every `_msg` code of a failed reply: its name is the code, with an HTTP status and a
    meaning. (Values are (status, meaning) pairs; `@unique` refuses two alike.)"""

    INVALID_PARAMETER = 400, "a parameter, the body or the URL is malformed"
    MISSING_PARAMETER = 400, "a required parameter is missing"
    UNKNOWN_PARAMETER = 400, "a parameter this URL does not take"
    CONFLICTING_PARAMETERS = 400, "two parameters that exclude each other"
    INVALID_CURSOR = 400, "a listing cursor that is tampered, foreign or of another listing"
    INVALID_MAIL = 400, "not a valid e-mail address"
    INVALID_DOMAIN_NAME = 400, "not a valid domain name"
    INVALID_SENDER = 400, "not an IP address, network, domain or e-mail address"
    INVALID_VALUE = 400, "slapd refused a value (syntax, size or schema)"
    PW_EMPTY = 400, "the new password is empty"
    PW_NON_ASCII = 400, "the new password has non-ASCII characters"
    PW_SHORTER_THAN_MIN_LENGTH = 400, "the new password is too short"
    PW_GREATER_THAN_MAX_LENGTH = 400, "the new password is too long"
    PW_NO_LETTER = 400, "the new password has no letter"
    PW_NO_UPPERCASE = 400, "the new password has no upper-case letter"
    PW_NO_DIGIT_NUMBER = 400, "the new password has no digit"
    PW_NO_SPECIAL_CHAR = 400, "the new password has no special character"
    PW_MISMATCH = 400, "the password to verify does not match"
    INVALID_PASSWORD_SCHEME = 400, "a password hash in a scheme slapd cannot check"
    CAN_NOT_BE_LOCAL_DOMAIN = 400, "an admin address in a hosted domain, or the reverse"
    INVALID_CATCHALL = 400, "a catch-all target that does not exist"
    INVALID_FORWARDING = 400, "a forwarding target that does not exist"
    INVALID_ALIAS = 400, "an alias outside the user's domains"
    INVALID_MEMBER = 400, "a group member that does not exist, or the group itself"
    LOGIN_REQUIRED = 401, "no valid session (missing, tampered, expired or ended)"
    INVALID_CREDENTIALS = 401, "unknown account or wrong password"
    API_DISABLED = 403, "`ENABLE_RESTFUL_API` is false"
    NOT_AUTHORIZED = 403, "client IP not in `RESTFUL_API_CLIENTS` (with `RESTRICT_API_ACCESS`)"
    PERMISSION_DENIED = 403, "outside the caller's scope, or the account is not an admin"
    ACCOUNT_DISABLED = 403, "right password, but the account or its domain is disabled"
    NOT_FOUND = 404, "unknown URL"
    NO_SUCH_DOMAIN = 404, "unknown domain"
    NO_SUCH_ACCOUNT = 404, "unknown account"
    NO_SUCH_OBJECT = 404, "a directory entry the operation needs does not exist"
    METHOD_NOT_ALLOWED = 405, "the URL exists, the method does not"
    ALREADY_EXISTS = 409, "the name or address is taken"
    CONCURRENT_UPDATE = 409, "a concurrent request changed the data first; try again"
    ENTRY_HAS_CHILDREN = 409, "the entry to delete has entries below it (new, or by another tool)"
    LENGTH_REQUIRED = 411, "a body without a length"
    REQUEST_TOO_LARGE = 413, "body over 1 MiB"
    UNSUPPORTED_MEDIA_TYPE = 415, "a body that is neither form-encoded nor JSON"
    EXCEEDED_LIMIT = 422, "an admin's or a domain's limit is reached"
    TOO_MANY_LOGIN_ATTEMPTS = 429, "too many failed logins for this IP or username"
    INTERNAL_ERROR = 500, "a fault on our side; see the log"
    DIRECTORY_ERROR = 500, "slapd refused an operation for a reason not the client's"
    DATABASE_ERROR = 500, "a policy database refused or failed an operation"
    SERVICE_UNAVAILABLE = 503, "a backend cannot be reached"
    DIRECTORY_UNAVAILABLE = 503, "slapd cannot be reached; retry once it is back"
    DATABASE_UNAVAILABLE = 503, "a policy database cannot be reached; likewise"
    WRITES_HELD = 503, "after a failover, creates wait for the new leader; see Retry-After"

    def __init__(self, status: int, meaning: str) -> None:
        self.status = status
        self.meaning = meaning


class ApiError(Exception):
    """Base of every error a client may see.

    `code` is one `Code`, or several (iRedAdmin's password checks answer all the rules a
    password breaks, comma-joined); without one, the class's `default`. The instance has
    `codes` (the `Code`s), `code` (the `_msg` string), `status` (the first code's) and `detail`.
    """

    default: Code = Code.INTERNAL_ERROR

    def __init__(self, code: Code | Iterable[Code] | None = None,
                 detail: str | None = None) -> None:
        codes = (code,) if isinstance(code, Code) else tuple(code or (self.default,))
        if not codes or not all(isinstance(c, Code) for c in codes):
            raise TypeError(f"not an error code of the catalogue (errors.Code): {code!r}")
        self.codes: tuple[Code, ...] = codes
        self.code: str = ",".join(c.name for c in codes)
        self.status: int = codes[0].status
        self.detail = detail
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class BadRequest(ApiError):
    default = Code.INVALID_PARAMETER


class Unauthenticated(ApiError):
    default = Code.LOGIN_REQUIRED


class PermissionDenied(ApiError):
    default = Code.PERMISSION_DENIED


class NotFound(ApiError):
    default = Code.NOT_FOUND


def no_such_domain(domain: str) -> NotFound:
    """NO_SUCH_DOMAIN (404): `domain` does not exist (or went while the request ran)."""
    return NotFound(Code.NO_SUCH_DOMAIN, detail=f"no domain {domain}")


class MethodNotAllowed(ApiError):
    default = Code.METHOD_NOT_ALLOWED


class Conflict(ApiError):
    default = Code.ALREADY_EXISTS


class PayloadTooLarge(ApiError):
    default = Code.REQUEST_TOO_LARGE


class LimitExceeded(ApiError):
    default = Code.EXCEEDED_LIMIT


class TooManyRequests(ApiError):
    default = Code.TOO_MANY_LOGIN_ATTEMPTS


class ServiceUnavailable(ApiError):
    default = Code.SERVICE_UNAVAILABLE


# Raised by the directory adapter (directory/); services translate them into account-level
# codes where they know better (e.g. EntryNotFound -> NO_SUCH_DOMAIN).


class DirectoryUnavailable(ServiceUnavailable):
    default = Code.DIRECTORY_UNAVAILABLE


class WritesHeld(ServiceUnavailable):
    """A write that reserves against a limit, refused while the directory's new leader
    catches up after a failover; `retry_after`: seconds, for the Retry-After header."""

    default = Code.WRITES_HELD

    def __init__(self, retry_after: int = 1, detail: str | None = None) -> None:
        super().__init__(detail=detail)
        self.retry_after = retry_after


class EntryNotFound(NotFound):
    default = Code.NO_SUCH_OBJECT


class EntryExists(Conflict):
    default = Code.ALREADY_EXISTS


class ConcurrentUpdate(Conflict):
    """An assertion or a value-level precondition failed: another writer got there first."""

    default = Code.CONCURRENT_UPDATE


class EntryHasChildren(Conflict):
    """The entry to delete has entries below it (made meanwhile, or by another tool)."""

    default = Code.ENTRY_HAS_CHILDREN


class DirectoryRejected(BadRequest):
    """slapd refused a value (syntax, size, schema); validation should have caught it."""

    default = Code.INVALID_VALUE


class DirectoryError(ApiError):
    """Anything else slapd answered that is not the client's fault (e.g. access rules)."""

    default = Code.DIRECTORY_ERROR


# Raised by the policy databases (policy/engine.py translates every SQLAlchemy error).


class DatabaseUnavailable(ServiceUnavailable):
    """A policy database (Amavisd, iRedAPD, iRedAdmin) cannot be reached."""

    default = Code.DATABASE_UNAVAILABLE


class DatabaseError(ApiError):
    """A policy database refused or failed an operation, not for a reason of the client's."""

    default = Code.DATABASE_ERROR
