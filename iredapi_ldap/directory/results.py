"""LDAP result codes (RFC 4511) as the API's errors: one table for both adapters."""

import logging

from .. import errors

log = logging.getLogger(__name__)

# Result codes the client or a concurrent writer can cause: (error class, detail).
_BY_CODE = {
    32: (errors.EntryNotFound, "no such entry"),                       # noSuchObject
    68: (errors.EntryExists, "the entry exists already"),             # entryAlreadyExists
    122: (errors.ConcurrentUpdate, "the entry was changed by another request; try again"),
    16: (errors.ConcurrentUpdate,  # noSuchAttribute: the value to delete is gone
         "the entry was changed by another request; try again"),
    20: (errors.ConcurrentUpdate,  # attributeOrValueExists: the value to add is there
         "the entry was changed by another request; try again"),
    66: (errors.EntryHasChildren,  # notAllowedOnNonLeaf
         "the entry has entries below it, which must go first"),
    19: (errors.DirectoryRejected, "a value breaks a constraint of the directory schema"),
    21: (errors.DirectoryRejected, "a value has the wrong syntax for its attribute"),
    34: (errors.DirectoryRejected, "malformed name"),                  # invalidDNSyntax
    65: (errors.DirectoryRejected,                                     # objectClassViolation
         "the entry would lack an attribute its object classes require"),
    64: (errors.DirectoryRejected, "malformed name"),                  # namingViolation
    51: (errors.DirectoryUnavailable, "the directory is busy"),
    52: (errors.DirectoryUnavailable, "the directory is unavailable"),
}

def error_for(code: int, description: str = "", dn: str = "") -> errors.ApiError:
    """The API error for LDAP result `code`; codes no client can cause are logged."""
    known = _BY_CODE.get(code)
    if known is None:
        log.error("directory error %s (%s) on %s", code, description, dn)
        return errors.DirectoryError(detail="the directory refused the operation")
    error_class, detail = known
    return error_class(detail=detail)
