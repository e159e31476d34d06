"""The app's log lines: text (the default) or, with `LOG_FORMAT: json`, one JSON object per
line. A line written while a request is served carries that request's id (the one its
reply names in `X-Request-Id`); the line the app writes for each request
(`http/audit.py`) carries the admin, the route template, the method, the status and the
duration as well. Neither ever holds a parameter value: the route is the template, not the
URL."""

import contextvars
import datetime
import json
import logging
import sys
from typing import Any, Optional, TextIO

TEXT_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"

# The id of the request being served, for every line logged while it is.
request_id: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "iredapi_request_id", default=None)

# Fields a record may carry (logging's `extra=`), in the order a JSON line shows them.
REQUEST_FIELDS = ("request_id", "admin", "client", "method", "route", "status", "code",
                  "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, pid, message, the
    request fields the record or the current request has, and a traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "pid": record.process,
            "message": record.getMessage()}
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is None and name == "request_id":
                value = request_id.get()
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "text", stream: Optional[TextIO] = None) -> None:
    """The app's records (logins, directory trouble, requests) on stderr, beside gunicorn's
    own, as `log_format` ('text' or 'json') says."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
