"""Whether the backends answer: every server of LDAP_URI and every policy database.

Each backend is probed on a connection of its own (an LDAP bind as the API's account; a
`SELECT 1`), with short timeouts of its own (HEALTH_TIMEOUT), in parallel. A probe that has
not answered by then counts as down, whatever the driver does: it goes on in a daemon
thread, and until it ends no second probe of that backend is started (a server that accepts
connections and never answers costs one thread, not one per check). A report is reused for
`reuse` seconds, so that frequent checks (several workers, a load balancer, a client that
loops) do not each open connections to every backend.

The report names servers and databases, so only a global admin sees it (`http/health.py`);
it never holds a password, a user name or a server's error text.
"""

from __future__ import annotations

import datetime
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..directory.connections import server_address
from ..errors import ApiError

log = logging.getLogger(__name__)


class ProbedDirectory(Protocol):
    """What the check needs of the directory adapter (`ThreadBoundDirectory`)."""

    @property
    def uris(self) -> tuple[str, ...]: ...

    @property
    def leader(self) -> str: ...

    def probe(self, uri: str, timeout: float, base: str | None = None) -> list[str]: ...


class ProbedDatabases(Protocol):
    """What the check needs of the policy databases (`policy.engine.Databases`)."""

    engines: Any  # a mapping whose keys are the database names

    def probe(self, database: str, timeout: float) -> None: ...

    def describe(self, database: str) -> dict[str, str]: ...


@dataclass(frozen=True)
class Backend:
    """One thing to probe: `kind` is `ldap` or `database`, `labels` what a global admin
    sees of it (no credentials), `probe()` raises when it is down, and may return a dict of
    what it found (an LDAP server's `context_csn`)."""

    kind: str
    key: str
    labels: dict[str, str]
    probe: Callable[[], Any]


@dataclass(frozen=True)
class Status:
    """The outcome of one probe: `latency_ms` is how long it took (to fail, when down)."""

    backend: Backend
    up: bool
    latency_ms: float
    problem: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {**self.backend.labels, "up": self.up,
                                "latency_ms": round(self.latency_ms, 1), **self.facts}
        if self.problem:
            item["error"] = self.problem
        return item


@dataclass(frozen=True)
class Report:
    statuses: tuple[Status, ...]

    @property
    def healthy(self) -> bool:
        """Every policy database answers, and a server of LDAP_URI does: then the API reads
        and writes (on the first server that answers, "Several providers" in the README).
        A replica down is shown in the details, not as a failure of this host."""
        ldap = [s.up for s in self.statuses if s.backend.kind == "ldap"]
        return all(s.up for s in self.statuses if s.backend.kind != "ldap") \
            and (not ldap or any(ldap))

    def details(self) -> dict[str, Any]:
        """`_data` of a global admin's reply: each LDAP URI and each database."""
        return {"ldap": [s.as_dict() for s in self.statuses if s.backend.kind == "ldap"],
                "databases": [s.as_dict() for s in self.statuses
                              if s.backend.kind == "database"]}

    def lines(self) -> list[str]:
        """One line per backend, for the command line."""
        out = []
        for status in self.statuses:
            labels = status.backend.labels
            name = labels.get("uri") or f"{labels['name']} ({labels['kind']}, " \
                                        f"{labels['location']})"
            state = "up" if status.up else f"DOWN ({status.problem})"
            out.append(f"{status.backend.kind} {name}: {state}, {status.latency_ms:.1f} ms")
        return out


def backends(directory: ProbedDirectory, databases: ProbedDatabases,
             timeout: float, base: str | None = None) -> list[Backend]:
    """Every server of LDAP_URI, then every policy database, as probes bounded by
    `timeout` seconds; with `base` (LDAP_BASEDN), the servers' probes also read the
    `contextCSN` of the database that holds it."""
    found = []
    for uri in directory.uris:
        public = _public_uri(uri)
        found.append(Backend("ldap", f"ldap {public}", {"uri": public},
                             functools.partial(_ldap_probe, directory, uri, timeout, base)))
    for name in databases.engines:
        found.append(Backend("database", f"database {name}", databases.describe(name),
                             functools.partial(databases.probe, name, timeout)))
    return found


def _ldap_probe(directory: ProbedDirectory, uri: str, timeout: float,
               base: str | None) -> dict[str, Any]:
    if base is None:
        directory.probe(uri, timeout)
        return {}
    return {"context_csn": directory.probe(uri, timeout, base)}


def replication(report: Report, leader: str) -> dict[str, Any]:
    """What a global admin sees of replication, added to `Report.details()`: the `leader`
    (the server of LDAP_URI this worker reads and writes through) and, for each server,
    whether it is the leader and `lag_ms`: how far its newest change from each server ID
    trails the leader's (their `contextCSN`s), the largest of them; 0 when it holds all the
    leader holds, None when that is unknown (it or the leader is down, or it holds nothing
    yet from a server ID the leader has seen)."""
    public = _public_uri(leader)
    statuses = [s for s in report.statuses if s.backend.kind == "ldap"]
    ahead = next((s for s in statuses if s.backend.labels["uri"] == public), None)
    reference = _csn_times(ahead.facts.get("context_csn", [])) if ahead and ahead.up else None
    servers = []
    for status in statuses:
        item = status.as_dict()
        item["leader"] = status.backend.labels["uri"] == public
        mine = _csn_times(status.facts.get("context_csn", [])) if status.up else None
        item["lag_ms"] = _lag_ms(reference, mine)
        servers.append(item)
    return {"leader": public, "ldap": servers}


def _csn_times(csns: Sequence[str]) -> dict[str, datetime.datetime]:
    """{server ID: time} of contextCSN values (`20261129105317.109592Z#000000#001#000000`)."""
    times = {}
    for csn in csns:
        stamp, _, rest = csn.partition("#")
        parts = rest.split("#")
        try:
            when = datetime.datetime.strptime(stamp, "%Y%m%d%H%M%S.%fZ")
        except ValueError:
            continue
        if len(parts) >= 2:
            times[parts[1]] = when
    return times


def _lag_ms(reference: dict[str, datetime.datetime] | None,
            mine: dict[str, datetime.datetime] | None) -> float | None:
    if reference is None or mine is None or not reference.keys() <= mine.keys():
        return None
    behind = [(when - mine[sid]).total_seconds() for sid, when in reference.items()]
    return round(max([0.0, *behind]) * 1000.0, 1)


def _public_uri(uri: str) -> str:
    """scheme://host:port of an LDAP URI: no user information, DN or extensions."""
    address = server_address(uri)
    scheme, _, rest = address.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


class HealthCheck:
    """Probes the backends in parallel, each bounded by `timeout` seconds. `backends` is a
    sequence of them, or a function that lists them on the first check (so that building
    the app needs no adapter that can probe)."""

    def __init__(self, backends: Sequence[Backend] | Callable[[], Sequence[Backend]],
                 timeout: float, reuse: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._list = backends
        self._backends: tuple[Backend, ...] | None = None
        self._timeout = timeout
        self._reuse = reuse
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, Future[Status]] = {}
        self._last: tuple[float, Report] | None = None
        self._was_up: dict[str, bool] = {}

    def report(self) -> Report:
        """The state of every backend, within about `timeout` seconds."""
        with self._lock:
            if self._last and self._clock() - self._last[0] < self._reuse:
                return self._last[1]
            if self._backends is None:
                found = self._list() if callable(self._list) else self._list
                self._backends = tuple(found)
            chosen = self._backends
            futures = [self._start(backend) for backend in chosen]
        deadline = self._clock() + self._timeout
        statuses = tuple(self._outcome(backend, future, deadline)
                         for backend, future in zip(chosen, futures, strict=True))
        report = Report(statuses)
        with self._lock:
            self._last = (self._clock(), report)
            self._log_changes(statuses)
        return report

    def _start(self, backend: Backend) -> Future[Status]:
        """The running probe of `backend`, or a new one (never two at once)."""
        future = self._running.get(backend.key)
        if future is None or future.done():
            future = Future()
            self._running[backend.key] = future
            threading.Thread(target=self._probe, args=(backend, future), daemon=True,
                             name=f"health {backend.key}").start()
        return future

    def _probe(self, backend: Backend, future: Future[Status]) -> None:
        started = self._clock()
        problem = None
        facts: dict[str, Any] = {}
        try:
            found = backend.probe()
            facts = found if isinstance(found, dict) else {}
        except ApiError as exc:
            problem = exc.detail or exc.code
        except Exception as exc:  # any failure means down
            log.debug("health probe of %s failed: %s", backend.key, type(exc).__name__)
            problem = "error"
        took = self._clock() - started
        if problem and took >= self._timeout * 0.95:  # the driver's own timeout ran out
            problem = self._silence
        future.set_result(Status(backend, problem is None, _ms(took), problem, facts))

    @property
    def _silence(self) -> str:
        return f"no answer within {self._timeout:g} s"

    def _outcome(self, backend: Backend, future: Future[Status], deadline: float) -> Status:
        try:
            return future.result(timeout=max(0.0, deadline - self._clock()))
        except FutureTimeout:
            return Status(backend, False, _ms(self._timeout), self._silence)

    def _log_changes(self, statuses: Sequence[Status]) -> None:
        """A line when a backend goes down or comes back (not on every check)."""
        for status in statuses:
            key = status.backend.key
            if self._was_up.get(key, True) != status.up:
                if status.up:
                    log.info("health: %s is back", key)
                else:
                    log.warning("health: %s is down: %s", key, status.problem)
            self._was_up[key] = status.up


def _ms(seconds: float) -> float:
    return seconds * 1000.0
