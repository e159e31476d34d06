"""gunicorn's access log, without secrets and with the real client address.

A URL lands in the access log whole. The API refuses parameters in the URL of a write, but a
client may still send `?password=...`; its value must not reach a log line, whatever the
request, so every value of a parameter whose name says it is a secret is masked. Behind a
trusted proxy the TCP peer is the proxy: the app puts the client's own address in the WSGI
environment (`CLIENT_ADDRESS_KEY`), and the log shows that one.
"""

import re
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

CLIENT_ADDRESS_KEY = "iredapi.client_address"
SECRET_NAME = re.compile(r"pass|secret|token|key", re.IGNORECASE)
_QUERY_ITEM = re.compile(r"([^&=;#\s]*)=([^&;#\s]*)")


def mask_query(query):
    """The query string with the value of every secret-looking parameter replaced by ***."""
    def mask(match):
        name = match.group(1)
        secret = SECRET_NAME.search(unquote_plus(name, errors="replace"))
        return f"{name}=***" if secret else match.group(0)
    return _QUERY_ITEM.sub(mask, query)


def mask_uri(uri):
    path, sep, query = uri.partition("?")
    return path + sep + mask_query(query) if sep else uri


class RedactingLogger(Logger):
    """gunicorn's Logger with secrets masked in the request line and the query string."""

    def atoms(self, resp, req, environ, request_time):
        safe = dict(environ)
        safe["RAW_URI"] = mask_uri(environ.get("RAW_URI", ""))
        safe["QUERY_STRING"] = mask_query(environ.get("QUERY_STRING", ""))
        if environ.get(CLIENT_ADDRESS_KEY):
            safe["REMOTE_ADDR"] = environ[CLIENT_ADDRESS_KEY]
        atoms = super().atoms(resp, req, safe, request_time)
        for name in list(atoms):  # request headers: a session cookie is a secret too
            if name.lower() in ("{cookie}i", "{authorization}i"):
                atoms[name] = "***"
        return atoms
