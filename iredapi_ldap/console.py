"""What every command of `iredapi-ldap` shares: the --config option, the one place that turns
an error into one line and an exit status, and the progress bar.

Exit statuses: 0 done, 1 a failure (the directory or a database unavailable or refusing, a
write that failed, something found and not fixed), 2 a usage or configuration mistake (bad
arguments, a file given that cannot be read or is not what it should be, a wrong setting),
130 interrupted. An error is one line on stderr, never a traceback.
"""

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, NoReturn, Optional, TextIO, TypeVar

from .config import ConfigError
from .errors import ApiError, ServiceUnavailable

PROG = "iredapi-ldap"
CONFIG_HELP = "YAML settings file (default: env IREDAPI_CONFIG; `dev` prints one)"
EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
T = TypeVar("T")


class UsageError(Exception):
    """A bad argument, or a file named on the command line that cannot be used."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with its errors raised as UsageError (one line) instead of printing the
    usage and exiting; subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()  # "export", "db init", or none
        raise UsageError(f"{command + ': ' if command else ''}{message} "
                         f"(see {self.prog} --help)")


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=CONFIG_HELP)


def open_input(path: str) -> BinaryIO:
    """`path` opened for binary reading; UsageError when it cannot be."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def open_output(path: str) -> TextIO:
    """`path` opened for writing text; UsageError when it cannot be."""
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


class HeldWarnings(logging.Handler):
    """While a command runs, the warnings logged (e.g. why a server could not be reached)
    are held: they become the reason of the command's error line, or are printed, one line
    each, after it succeeded."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call must not stop the command
            text = str(record.msg)
        self.messages.append(" ".join(text.split()))

    @contextlib.contextmanager
    def held(self, enabled: bool) -> Iterator[None]:
        root = logging.getLogger()
        if not enabled:
            yield
            return
        root.addHandler(self)
        try:
            yield
        finally:
            root.removeHandler(self)
        for message in self.messages:  # reached only when the command succeeded
            print(f"{PROG}: warning: {message}", file=sys.stderr)

    def reason(self) -> str:
        return f" ({self.messages[-1]})" if self.messages else ""


def run(parse: Callable[[], argparse.Namespace]) -> int:
    """Parse the arguments and run the command they name; its exit status. Every error ends
    here: one line on stderr."""
    warnings = HeldWarnings()
    try:
        args = parse()
        # The servers log to stderr as they run; only the other commands hold warnings.
        with warnings.held(not getattr(args, "serves", False)):
            status: int = args.run(args) or 0
            return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `export | head`: the reader is gone, nothing to say
        _quiet_stdout()
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the one place every error is reported
        status, line = describe(exc, warnings.reason())
        print(f"{PROG}: {line}", file=sys.stderr)
        return status


def describe(exc: Exception, reason: str = "") -> tuple[int, str]:
    """(exit status, the error's line without the program name)."""
    if isinstance(exc, ConfigError):
        return EXIT_USAGE, f"configuration error: {exc}"
    if isinstance(exc, UsageError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, ApiError):
        detail = f": {exc.detail}" if exc.detail else ""
        return EXIT_FAILURE, (f"{exc.code}{detail}"
                              f"{reason if isinstance(exc, ServiceUnavailable) else ''}")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return EXIT_FAILURE, f"{where}{exc.strerror or exc}"
    return EXIT_FAILURE, (f"unexpected error, please report it: {type(exc).__name__}: "
                          f"{' '.join(str(exc).split())}")


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


# -- progress -------------------------------------------------------------------------------

REDRAW_SECONDS = 0.1
MIN_BAR, MAX_BAR = 10, 40


def render(what: str, count: int, total: Optional[int], elapsed: float, width: int = 80,
           unit: str = "entries", finished: bool = False) -> str:
    """One line of progress, at most `width` - 1 characters: a bar, the percentage, count of
    total, rate and time left (when finished: time taken) where the total is known; else the
    count and the rate."""
    rate = count / elapsed if elapsed > 0 else 0.0
    speed = f"{_human(rate)}/s"
    if total is None:
        timing = f"  in {_clock(elapsed)}" if finished else ""
        return f"{what} {count} {unit}  {speed}{timing}"[:width - 1]
    fraction = min(count / total, 1.0) if total > 0 else 1.0
    if finished:
        timing = f"in {_clock(elapsed)}"
    else:
        left = max(total - count, 0) / rate if rate > 0 else None
        timing = f"eta {_clock(left) if left is not None else '-:--'}"
    tail = f" {fraction:4.0%}  {count}/{total} {unit}  {speed}  {timing}"
    room = width - 1 - len(what) - len(tail) - 3  # the spaces and brackets around the bar
    if room < MIN_BAR:
        return f"{what}{tail}"[:width - 1]
    room = min(room, MAX_BAR)
    done = int(room * fraction)
    return f"{what} [{'#' * done}{'-' * (room - done)}]{tail}"


def _human(rate: float) -> str:
    if rate >= 10_000:
        return f"{rate / 1000:.0f}k"
    if rate >= 1000:
        return f"{rate / 1000:.1f}k"
    return f"{rate:.1f}" if rate < 10 else f"{rate:.0f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return (f"{hours}:" if hours else "") + f"{rest // 60:0{2 if hours else 1}d}:{rest % 60:02d}"


class Progress:
    """A progress line on a terminal's stderr, redrawn in place (at most ten times a second);
    nothing at all when stderr is not a terminal (or `enabled` is False).

    Use as a context manager: at the end the line shows the final count and the time taken,
    or, when the work failed, is erased (so the error line stands alone).
    """

    def __init__(self, what: str, unit: str = "entries", total: Optional[int] = None,
                 stream: Optional[TextIO] = None, enabled: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.unit, self.total = what, unit, total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.count = 0
        self._clock = clock
        self._start = clock()
        self._drawn_at: Optional[float] = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if not self.enabled:
            return
        if kind is None:
            self._draw(finished=True)
            self.stream.write("\n")
        elif self._drawn_at is not None:
            self.stream.write("\r\x1b[K")
        self.stream.flush()

    def advance(self, step: int = 1) -> None:
        self.update(self.count + step)

    def update(self, count: int) -> None:
        self.count = count
        if self.enabled and (self._drawn_at is None
                             or self._clock() - self._drawn_at >= REDRAW_SECONDS):
            self._draw()

    def iterate(self, items: Iterable[T]) -> Iterator[T]:
        """`items`, counted as the consumer comes back for the next one (i.e. as each is
        done)."""
        for item in items:
            yield item
            self.advance()

    def say(self, text: str) -> None:
        """Print a line on stdout without tearing the progress line, and count it."""
        if self.enabled and self._drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        print(text, flush=True)
        self.advance()

    def _draw(self, finished: bool = False) -> None:
        now = self._clock()
        self._drawn_at = now
        line = render(self.what, self.count, self.total, now - self._start, self._width(),
                      self.unit, finished)
        self.stream.write(f"\r{line}\x1b[K")
        self.stream.flush()

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return columns or 80  # a terminal that does not know its size says 0
