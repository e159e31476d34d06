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
from collections.abc import Callable, Iterator

from .config import ConfigError
from .errors import ApiError, ServiceUnavailable

PROG = "iredapi-ldap"
CONFIG_HELP = "YAML settings file (default: env IREDAPI_CONFIG; `dev` prints one)"
EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class UsageError(Exception):
    """A bad argument, or a file named on the command line that cannot be used."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with its errors raised as UsageError (one line) instead of printing the
    usage and exiting; subcommands' parsers are of this class too."""

    def error(self, message: str):  # type: ignore[override]
        command = self.prog.removeprefix(PROG).strip()  # "export", "db init", or none
        raise UsageError(f"{command + ': ' if command else ''}{message} "
                         f"(see {self.prog} --help)")


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=CONFIG_HELP)


def open_input(path: str):
    """`path` opened for binary reading; UsageError when it cannot be."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def open_output(path: str):
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
            return args.run(args) or 0
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
