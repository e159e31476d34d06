"""The command line's parser, settings file, error lines and progress bar (no servers)."""

import argparse
import os

from iredapi_ldap import cli
from iredapi_ldap.config import load_settings


def test_dev_settings_file_reads_back_to_the_same_settings(tmp_path):
    settings = load_settings(
        environ={}, enable_restful_api=True, ldap_uri=("ldap://127.0.0.1:4711/",),
        ldap_basedn="o=domains,dc=x,dc=test", ldap_admin_basedn="o=domainAdmins,dc=x,dc=test",
        ldap_bind_dn="cn=vmailadmin,dc=x,dc=test", ldap_bind_password="Pa ss: 'w\"rd",
        data_dir=str(tmp_path / "data"))
    path = cli.write_settings_file(settings, str(tmp_path / "settings.yaml"))
    assert os.stat(path).st_mode & 0o777 == 0o600
    again = load_settings(path, environ={})
    key = (tmp_path / "data" / "secret_key").read_text().strip()
    urls = {f"{database}_db_url": settings.sql_url(database) for database in cli.SQL_DATABASES}
    # The same directory, session key and SQL files as the dev server's.
    assert again == settings.replace(secret_key=key, **urls)
    assert "Pa ss" in (tmp_path / "settings.yaml").read_text()


def _parsers(parser):
    """`parser` and every subcommand's parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_command_and_option_has_help():
    for parser in _parsers(cli.build_parser()):
        assert parser.description, parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help.strip(), f"{parser.prog} {action.dest}"
            for choice in getattr(action, "_choices_actions", ()):  # the subcommands
                assert choice.help and choice.help.strip(), f"{parser.prog} {choice.dest}"
