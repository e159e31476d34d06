"""Signed session cookies: no server-side store, so any number of API processes or hosts
serve the same clients as long as they share SECRET_KEY.

The cookie carries the admin's DN, an expiry time, a fingerprint of the admin's stored
password hash (a password change therefore ends every session of that admin) and a random
session id, which a logout records: the same session spelled another way (base64 leaves
spare bits in the signature) is still the same, ended session.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from .errors import Unauthenticated

COOKIE_NAME = "iRedAdmin-Pro-LDAP"


def key_id(secret_key: str) -> str:
    """A short fingerprint of SECRET_KEY (the first 8 hex digits of its SHA-256), never the
    key: hosts whose fingerprints differ do not accept each other's sessions."""
    return hashlib.sha256(secret_key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class SessionClaims:
    dn: str
    fingerprint: str
    expires: int
    session_id: str


class SessionCodec:
    """Issues and reads session tokens signed with SECRET_KEY."""

    def __init__(self, secret_key, timeout, clock=time.time):
        self._serializer = URLSafeSerializer(secret_key, salt="iredapi-ldap session")
        self._secret = secret_key.encode()
        self._timeout = timeout
        self._clock = clock

    @property
    def timeout(self):
        return self._timeout

    def fingerprint(self, password_values):
        """A short keyed digest of the stored password hash(es): changes when they change."""
        material = "\n".join(sorted(str(v) for v in password_values)).encode()
        return hmac.new(self._secret, material, hashlib.sha256).hexdigest()[:32]

    def issue(self, dn, password_values):
        """A token for `dn`, valid for SESSION_TIMEOUT seconds."""
        expires = int(self._clock()) + self._timeout
        return self._serializer.dumps([dn, self.fingerprint(password_values), expires,
                                       secrets.token_urlsafe(16)])

    def now(self):
        """The time sessions are measured by (epoch seconds)."""
        return self._clock()

    def is_expired(self, expires):
        """Whether a token that expires at `expires` (epoch seconds) has expired."""
        return expires <= self._clock()

    def read(self, token):
        """The claims of a valid, unexpired token.

        Raises:
            Unauthenticated: missing, tampered, foreign (another key) or expired token.
        """
        if not token:
            raise Unauthenticated()
        try:
            dn, fingerprint, expires, session_id = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise Unauthenticated(detail="invalid session") from None
        if not isinstance(expires, int) or self.is_expired(expires):
            raise Unauthenticated(detail="session expired")
        return SessionClaims(str(dn), str(fingerprint), expires, str(session_id))
