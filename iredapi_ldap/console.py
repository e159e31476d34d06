"""What every command of `iredapi-ldap` shares: the --config option, the one place that turns
an error into one line and an exit status, and the progress bar."""

import argparse

CONFIG_HELP = "YAML settings file (default: env IREDAPI_CONFIG; `dev` prints one)"


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
