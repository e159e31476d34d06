"""`iredapi-ldap healthcheck`: the probes of GET /api/health from the command line, for
scripts and container health checks. Exit status 0 when every backend answers, 1 when one
does not, 2 for a configuration mistake."""

import argparse
import sys
from typing import Any

from . import directory as directory_module
from .config import ConfigError, Settings, load_settings
from .services.health import HealthCheck, Report, backends


def add_commands(commands: Any) -> None:
    check = commands.add_parser(
        "healthcheck", help="probe the directory and the policy databases",
        description="Bind to every server of LDAP_URI as the API's account and run SELECT 1 "
                    "in every policy database, each within HEALTH_TIMEOUT seconds; print one "
                    "line per backend. Exit status 0 when a server and every database answer "
                    "(a replica down is shown, not a failure), 1 when not, 2 for a "
                    "configuration mistake.")
    check.add_argument("--config", metavar="FILE",
                       help="YAML settings file (default: env IREDAPI_CONFIG)")
    check.set_defaults(run=run_healthcheck)


def run_healthcheck(args: argparse.Namespace) -> int:
    report = check(load_settings(args.config))
    for line in report.lines():
        print(line)
    print("healthy" if report.healthy else "UNHEALTHY")
    sys.stdout.flush()
    return 0 if report.healthy else 1


def check(settings: Settings) -> Report:
    """Probe every backend of `settings` once."""
    directory = directory_module.from_settings(settings)
    timeout = settings.health_timeout
    return HealthCheck(backends(directory, _databases(settings), timeout), timeout,
                       reuse=0).report()


def _databases(settings: Settings) -> Any:
    """The policy databases; a URL that cannot be used (malformed, or its driver is not
    installed) is a configuration mistake naming its key, never its text (a password)."""
    from .policy.engine import Databases
    from .policy.tables import DATABASES
    urls = {name: settings.sql_url(name) for name in DATABASES}
    for name, url in urls.items():
        try:
            Databases({name: url})
        except Exception as exc:
            raise ConfigError(f"{name.upper()}_DB_URL: cannot be used "
                              f"({type(exc).__name__})") from None
    return Databases(urls)
