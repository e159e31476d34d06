"""Prometheus metrics: their definitions, and how they are read back (no falcon here, so
that directory/, policy/ and services/ may record them).

Every label value is taken from a small closed set: route templates (never a URL with its
addresses), methods, statuses, error codes of the catalogue, operation kinds and database
names. No address, account name or secret ever becomes a label.

Under `serve` the metrics of every gunicorn worker are summed: `serve` calls
`use_multiprocess_dir()` before the workers start, each worker writes its values to files in
that directory (prometheus-client's multiprocess mode), and `exposition()` reads them all.
Without it (tests with falcon's TestClient, one process) the values live in `REGISTRY`.

Every metric has labels, so none has a value before it is first recorded, and the switch to
the multiprocess mode, which may come after this module is imported, forgets those recorded
before it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from .errors import ApiError

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# What `generate_latest` writes: the text format every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds: from a cached LDAP read (a millisecond) to a domain-wide change (minutes).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
           30.0, 60.0, 300.0)

REQUESTS = Counter(
    "iredapi_ldap_requests", "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"), registry=REGISTRY)
REQUEST_SECONDS = Histogram(
    "iredapi_ldap_request_duration_seconds",
    "Time to answer an HTTP request (a streamed body not included), by route template and "
    "method.", ("route", "method"), buckets=BUCKETS, registry=REGISTRY)
ERRORS = Counter(
    "iredapi_ldap_errors", "Failed replies by their `_msg` code.", ("code",), registry=REGISTRY)

LDAP_OPERATIONS = Counter(
    "iredapi_ldap_ldap_operations",
    "LDAP operations by kind and outcome (`ok` or the error code).",
    ("operation", "outcome"), registry=REGISTRY)
LDAP_SECONDS = Histogram(
    "iredapi_ldap_ldap_operation_duration_seconds",
    "Time of LDAP operations (a search: its first page), by kind.", ("operation",),
    buckets=BUCKETS, registry=REGISTRY)
DIRECTORY_FAILOVERS = Counter(
    "iredapi_ldap_directory_failovers",
    "Servers of LDAP_URI that could not be used when connecting: `next_server` when "
    "another one was tried, `no_server_left` when it was the last.", ("result",),
    registry=REGISTRY)

SQL_OPERATIONS = Counter(
    "iredapi_ldap_sql_operations",
    "SQL reads and write transactions by database and outcome (`ok` or the error code).",
    ("database", "operation", "outcome"), registry=REGISTRY)
SQL_SECONDS = Histogram(
    "iredapi_ldap_sql_operation_duration_seconds",
    "Time of SQL reads and write transactions (retries included), by database.",
    ("database", "operation"), buckets=BUCKETS, registry=REGISTRY)

LOGIN_FAILURES = Counter(
    "iredapi_ldap_login_failures",
    "Failed admin logins: `invalid_credentials`, or the right password of an "
    "`account_disabled` or `not_admin` account.", ("reason",), registry=REGISTRY)
LOGIN_REFUSALS = Counter(
    "iredapi_ldap_login_refusals",
    "Logins refused unchecked (429) after too many failures of the client or username.",
    ("reason",), registry=REGISTRY)

ALL = (REQUESTS, REQUEST_SECONDS, ERRORS, LDAP_OPERATIONS, LDAP_SECONDS, DIRECTORY_FAILOVERS,
       SQL_OPERATIONS, SQL_SECONDS, LOGIN_FAILURES, LOGIN_REFUSALS)


def outcome_of(exc: BaseException) -> str:
    """An exception as an outcome label: the API's error code, else `error`."""
    return exc.codes[0].name if isinstance(exc, ApiError) else "error"


class Observation:
    """What `observed()` records: `outcome` stays `ok` unless the block raises or sets it."""

    def __init__(self) -> None:
        self.outcome = "ok"


@contextlib.contextmanager
def observed(counter: Counter, histogram: Histogram, *labels: str) -> Iterator[Observation]:
    """Time the block into `histogram` and count it in `counter` with its outcome."""
    observation = Observation()
    started = time.perf_counter()
    try:
        yield observation
    except BaseException as exc:
        observation.outcome = outcome_of(exc)
        raise
    finally:
        histogram.labels(*labels).observe(time.perf_counter() - started)
        counter.labels(*labels, observation.outcome).inc()


def ldap_operation(operation: str) -> contextlib.AbstractContextManager[Observation]:
    """Record one LDAP operation (`search`, `add`, `modify`, `delete`, `modrdn`, `bind`)."""
    return observed(LDAP_OPERATIONS, LDAP_SECONDS, operation)


def sql_operation(database: str, operation: str
                  ) -> contextlib.AbstractContextManager[Observation]:
    """Record one SQL `read` or `write` transaction of `database`."""
    return observed(SQL_OPERATIONS, SQL_SECONDS, database, operation)


def use_multiprocess_dir(directory: str | os.PathLike[str]) -> Path:
    """Make `directory` (emptied first) where this process and its children (gunicorn's
    workers) keep their values, so that `exposition()` sums them all. Call it before any
    value is recorded and before the workers start."""
    path = Path(directory).resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)
    # Forget the values made so far (they would stay in this process's memory), before
    # the switch: prometheus-client warns of a clear() in multiprocess mode.
    for metric in ALL:
        metric.clear()
    os.environ[MULTIPROC_ENV] = str(path)
    # prometheus-client picks its kind of values when it is imported: pick again.
    values.ValueClass = values.get_value_class()
    return path


def mark_process_dead(pid: int) -> None:
    """A worker `pid` has exited (gunicorn's child_exit): its live gauges go; its counts
    stay in the sums."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


def exposition() -> bytes:
    """The metrics in Prometheus's text format: of every worker in the multiprocess mode,
    else of this process."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
