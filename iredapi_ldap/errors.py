"""The API's exceptions. Each carries a stable `_msg` code and an HTTP status.

Nothing here knows about Falcon or ldap3: services and adapters raise these, and the HTTP layer
renders them in one place (`http/envelope.py`). `detail` is a human-readable sentence that may
be shown to the client; it must never contain a traceback or a server error text verbatim.
"""


class ApiError(Exception):
    """Base of every error a client may see."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, code=None, detail=None):
        self.code = code or self.code
        self.detail = detail
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class BadRequest(ApiError):
    status = 400
    code = "INVALID_PARAMETER"


class Unauthenticated(ApiError):
    status = 401
    code = "LOGIN_REQUIRED"


class PermissionDenied(ApiError):
    status = 403
    code = "PERMISSION_DENIED"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class Conflict(ApiError):
    status = 409
    code = "ALREADY_EXISTS"


class PayloadTooLarge(ApiError):
    status = 413
    code = "REQUEST_TOO_LARGE"


class LimitExceeded(ApiError):
    status = 422
    code = "EXCEEDED_LIMIT"


class TooManyRequests(ApiError):
    status = 429
    code = "TOO_MANY_LOGIN_ATTEMPTS"


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


# Raised by the directory adapter (directory/); services translate them into account-level
# codes where they know better (e.g. EntryNotFound -> NO_SUCH_DOMAIN).


class DirectoryUnavailable(ServiceUnavailable):
    code = "DIRECTORY_UNAVAILABLE"


class EntryNotFound(NotFound):
    code = "NO_SUCH_OBJECT"


class EntryExists(Conflict):
    code = "ALREADY_EXISTS"


class ConcurrentUpdate(Conflict):
    """An assertion or a value-level precondition failed: another writer got there first."""

    code = "CONCURRENT_UPDATE"


class EntryHasChildren(Conflict):
    """The entry to delete has entries below it (made meanwhile, or by another tool)."""

    code = "ENTRY_HAS_CHILDREN"


class DirectoryRejected(BadRequest):
    """slapd refused a value (syntax, size, schema); validation should have caught it."""

    code = "INVALID_VALUE"


class DirectoryError(ApiError):
    """Anything else slapd answered that is not the client's fault (e.g. access rules)."""

    code = "DIRECTORY_ERROR"
