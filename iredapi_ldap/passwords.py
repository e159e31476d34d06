"""Checking and making `userPassword` values with libpass (imported as `passlib`).

Verification accepts every scheme iRedMail writes or accepts (facts file, section 4). New
hashes use only schemes slapd itself can check, because Dovecot 2.3 lets slapd verify
passwords (`auth_bind`).
"""

import base64
import hashlib
import hmac
import re

from passlib import hash as handlers

# Scheme prefix -> libpass handler for the text after the prefix.
_CRYPT_HANDLERS = (handlers.sha512_crypt, handlers.bcrypt, handlers.md5_crypt)
_PREFIXED = {
    "SSHA": handlers.ldap_salted_sha1,
    "SSHA512": handlers.ldap_salted_sha512,
    "SHA": handlers.ldap_sha1,
    "MD5": handlers.ldap_md5,
}
_DOVECOT_CRYPT = {"SHA512-CRYPT": handlers.sha512_crypt, "BLF-CRYPT": handlers.bcrypt,
                  "MD5-CRYPT": handlers.md5_crypt}
_SCHEME = re.compile(r"^\{([A-Za-z0-9.-]+)\}(.*)$", re.DOTALL)
# A hash verified when the account is unknown, so that timing does not tell it apart.
_DECOY = handlers.ldap_salted_sha512.hash("decoy password")
# The most work one check may cost: a stored hash of more rounds would let whoever sets it
# tie up a worker for minutes at every login attempt (glibc allows 999 999 999 rounds).
# iRedMail and doveadm write 5 000 rounds of SHA-512 and bcrypt cost 12.
MAX_ROUNDS = {handlers.sha512_crypt: 100_000, handlers.bcrypt: 13}
# The longest password set or checked. SHA-512-crypt's work grows with the length too (a
# 4 096-character password costs 15 times a 10-character one at the same rounds), and
# libpass refuses more than 4 096 characters outright.
MAX_LENGTH = 256
# bcrypt reads at most 72 bytes of a password (crypt_blowfish and doveadm ignore the rest;
# the bcrypt library refuses more).
BCRYPT_BYTES = 72


def max_length(scheme):
    """The longest password that can be hashed with `scheme` (DEFAULT_PASSWORD_SCHEME)."""
    return BCRYPT_BYTES if scheme.upper() == "BCRYPT" else MAX_LENGTH


def verify(password, stored_values):
    """Whether `password` matches one of the stored `userPassword` values.

    A value without a known `{SCHEME}` prefix never matches: a client must not be able to log
    in by sending the stored hash itself.
    """
    if not password:
        return False
    if len(password) > MAX_LENGTH:  # never set so (check_new_password): cannot match
        return verify_decoy(password)
    return any(_verify_one(password, value) for value in stored_values)


def verify_decoy(password):
    """Spend the time of one real check, for accounts that do not exist."""
    handlers.ldap_salted_sha512.verify((password or "x")[:MAX_LENGTH], _DECOY)
    return False


def _verify_one(password, stored):
    if isinstance(stored, bytes):
        stored = stored.decode("utf-8", "replace")
    match = _SCHEME.match(stored)
    if not match:
        return False
    scheme, rest = match.group(1).upper(), match.group(2)
    try:
        return _check(scheme, rest, stored, password)
    except (ValueError, TypeError):
        return False  # a malformed stored hash matches nothing


def _too_costly(handler, text):
    """Whether checking `text` (a crypt(3) string of `handler`) costs more than allowed."""
    limit = MAX_ROUNDS.get(handler)
    return limit is not None and handler.from_string(text).rounds > limit


def _check(scheme, rest, stored, password):
    if scheme in _PREFIXED:
        return _PREFIXED[scheme].verify(password, "{%s}%s" % (scheme, rest))
    if scheme in _DOVECOT_CRYPT or scheme == "CRYPT":
        handler = _DOVECOT_CRYPT.get(scheme) or next(
            (h for h in _CRYPT_HANDLERS if h.identify(rest)), None)
        if handler is None or _too_costly(handler, rest):
            return False
        if handler is handlers.bcrypt:  # as crypt_blowfish reads it
            return handler.verify(password.encode()[:BCRYPT_BYTES], rest)
        return handler.verify(password, rest)
    if scheme == "SHA512":
        # Unsalted SHA-512 (slapd's pw-sha2); libpass has no handler for it.
        digest = base64.b64encode(hashlib.sha512(password.encode()).digest()).decode()
        return hmac.compare_digest(digest, rest)
    if scheme == "PLAIN-MD5":
        return handlers.hex_md5.verify(password, rest.lower())
    if scheme == "PLAIN":
        return hmac.compare_digest(password.encode(), rest.encode())
    return False


def hash_password(password, scheme="SSHA512"):
    """A new `userPassword` value for `password` in one of the schemes slapd can check."""
    scheme = scheme.upper()
    if scheme == "SSHA512":
        return handlers.ldap_salted_sha512.hash(password)
    if scheme == "SSHA":
        return handlers.ldap_salted_sha1.hash(password)
    if scheme == "SHA512":
        return "{SHA512}" + base64.b64encode(hashlib.sha512(password.encode()).digest()).decode()
    if scheme == "SHA512-CRYPT":
        # 5000 rounds: what glibc and `doveadm pw -s SHA512-CRYPT` write.
        return "{CRYPT}" + handlers.sha512_crypt.using(rounds=5000).hash(password)
    if scheme == "BCRYPT":
        return "{CRYPT}" + handlers.bcrypt.hash(password)
    raise ValueError(f"unsupported password scheme {scheme}")


# Base64 schemes slapd can check itself (Dovecot 2.3 binds through it): prefix -> (digest
# size, salted); and the prefixes of crypt(3) strings with their libpass handlers.
_SLAPD_DIGESTS = {"SSHA": (20, True), "SSHA512": (64, True), "SHA": (20, False),
                  "SHA512": (64, False)}
_CRYPT_PREFIXES = {"CRYPT": _CRYPT_HANDLERS, **{k: (h,) for k, h in _DOVECOT_CRYPT.items()}}


def normalize_hash(value):
    """A client-supplied `password_hash` in the form slapd can check, or ValueError.

    Accepted: {SSHA}, {SSHA512}, {SHA}, {SHA512}, and {CRYPT} with $6$, $2b$/$2y$, $1$;
    Dovecot's {SHA512-CRYPT}, {BLF-CRYPT}, {MD5-CRYPT} become the {CRYPT} form of the same
    string (DESIGN.md section 3).
    """
    match = _SCHEME.match((value or "").strip())
    if not match:
        raise ValueError("no {SCHEME} prefix")
    scheme, rest = match.group(1).upper(), match.group(2)
    if scheme in _SLAPD_DIGESTS:
        size, salted = _SLAPD_DIGESTS[scheme]
        raw = _b64decode(rest)
        if (len(raw) > size) if salted else (len(raw) == size):
            return "{%s}%s" % (scheme, rest)
        raise ValueError(f"malformed {scheme} hash")
    handler = next((h for h in _CRYPT_PREFIXES.get(scheme, ()) if h.identify(rest)), None)
    if handler is not None:
        if _too_costly(handler, rest):
            raise ValueError(f"{scheme} hash of more rounds than {MAX_ROUNDS[handler]}")
        return "{CRYPT}" + rest
    raise ValueError(f"unsupported or malformed {scheme} hash")


def _b64decode(text):
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""
