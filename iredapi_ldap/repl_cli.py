"""`iredapi-ldap repl-verify`: whether the providers of LDAP_URI hold the same entries (DN and
entryCSN of everything below LDAP_BASEDN and LDAP_ADMIN_BASEDN), read from each, paged.
Exit status 0 when they do, 1 when some differ (one line each) or a provider cannot be read,
2 for a usage or configuration mistake (including an LDAP_URI of one server)."""

import argparse
import sys
from typing import Any

from . import console
from . import directory as directory_module
from .config import ConfigError, Settings, load_settings
from .services.replication import verify


def add_commands(commands: Any) -> None:
    check = commands.add_parser(
        "repl-verify", help="compare the entries of the replicating providers of LDAP_URI",
        description="Read the DN and entryCSN of every entry below LDAP_BASEDN and "
                    "LDAP_ADMIN_BASEDN from each server of LDAP_URI (paged), compare them "
                    "with the first server's and print one line per entry that is missing "
                    "on a server or has another entryCSN there. Entries that differ are "
                    "read again after --recheck seconds, so replication in flight is not "
                    "reported. Exit status 0 when all agree, 1 when some differ or a server "
                    "cannot be read, 2 for a usage or configuration mistake.")
    console.config_option(check)
    check.add_argument("--recheck", type=_seconds, default=2.0, metavar="SECONDS",
                       help="read differing entries again after this long; 0: report them "
                            "at once (default: 2)")
    check.set_defaults(run=run_verify)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 3600:  # also refuses nan
        raise argparse.ArgumentTypeError("must be between 0 and 3600")
    return value


def run_verify(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if len(settings.ldap_uri) < 2:
        raise ConfigError("LDAP_URI lists one server: there is nothing to compare it with")
    reference, *others = settings.ldap_uri
    with console.Progress("compared") as progress:
        differences = verify(_directory(settings, reference),
                             {uri: _directory(settings, uri) for uri in others},
                             _roots(settings), args.recheck, progress.advance)
    for difference in differences:
        print(difference.line(reference))
    print(f"compared {len(settings.ldap_uri)} servers: "
          + (f"{len(differences)} difference(s)" if differences else "no differences"))
    sys.stdout.flush()
    return 1 if differences else 0


def _directory(settings: Settings, uri: str) -> Any:
    """The directory adapter of `settings` bound to `uri` alone (no failover)."""
    return directory_module.from_settings(settings.replace(ldap_uri=(uri,)))


def _roots(settings: Settings) -> list[str]:
    """LDAP_BASEDN and LDAP_ADMIN_BASEDN, without one that lies below the other."""
    bases = sorted({settings.ldap_basedn.lower(): settings.ldap_basedn,
                    settings.ldap_admin_basedn.lower(): settings.ldap_admin_basedn}.items(),
                   key=lambda item: len(item[0]))  # a base below another is longer
    roots: list[str] = []
    for lowered, base in bases:
        if not any(lowered.endswith("," + root.lower()) for root in roots):
            roots.append(base)
    return roots
