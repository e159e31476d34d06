"""The command line's parser, settings file, error lines and progress bar (no servers)."""

import argparse
import io
import logging
import os

from iredapi_ldap import cli, console, errors
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


def _run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, err.splitlines()


def test_bad_arguments_are_one_line_and_status_2(capsys):
    assert _run(capsys, "export") == (2, [
        "iredapi-ldap: export: one of the arguments --domain --all is required "
        "(see iredapi-ldap export --help)"])
    assert _run(capsys, "export", "--domain", "not a domain") == (2, [
        "iredapi-ldap: export: argument --domain: not a domain name: 'not a domain' "
        "(see iredapi-ldap export --help)"])
    assert _run(capsys, "doctor", "--grace", "-5") == (2, [
        "iredapi-ldap: doctor: argument --grace: must not be negative "
        "(see iredapi-ldap doctor --help)"])
    status, lines = _run(capsys, "no-such-command")
    assert status == 2 and len(lines) == 1 and "invalid choice: 'no-such-command'" in lines[0]


def test_a_missing_config_file_is_one_line_and_status_2(capsys, tmp_path):
    assert _run(capsys, "doctor", "--config", str(tmp_path / "none.yaml")) == (2, [
        f"iredapi-ldap: configuration error: cannot read config file {tmp_path / 'none.yaml'}: "
        "No such file or directory"])


def test_error_lines_and_statuses():
    unreachable = errors.DirectoryUnavailable(detail="the directory is unreachable")
    assert console.describe(unreachable, " (ldap://x: Can't contact LDAP server)") == (
        1, "DIRECTORY_UNAVAILABLE: the directory is unreachable (ldap://x: Can't contact "
           "LDAP server)")
    assert console.describe(errors.EntryExists(detail="x exists already"), " (ignored)") == (
        1, "ALREADY_EXISTS: x exists already")
    assert console.describe(console.UsageError("cannot read f")) == (2, "cannot read f")
    assert console.describe(OSError(28, "No space left on device", "out.ldif")) == (
        1, "out.ldif: No space left on device")
    assert console.describe(KeyError("x"))[0] == 1


def test_warnings_are_held_and_the_last_one_is_the_reason(capsys):
    def failing(args):
        logging.getLogger("iredapi_ldap.directory").warning("cannot use %s: %s", "a", "down")
        raise errors.DirectoryUnavailable(detail="the directory is unreachable")

    def succeeding(args):
        logging.getLogger("iredapi_ldap.x").warning("something odd\nover two lines")

    for run, status, line in (
            (failing, 1, "iredapi-ldap: DIRECTORY_UNAVAILABLE: the directory is unreachable "
                         "(cannot use a: down)"),
            (succeeding, 0, "iredapi-ldap: warning: something odd over two lines")):
        assert console.run(lambda run=run: argparse.Namespace(run=run)) == status
        assert capsys.readouterr().err.splitlines() == [line]


def test_progress_line_with_a_total():
    assert console.render("exported", 5200, 10000, 4.0, width=80) == (
        "exported [#############------------]  52%  5200/10000 entries  1.3k/s  eta 0:04")
    assert console.render("exported", 10000, 10000, 8.0, width=80, finished=True) == (
        "exported [#########################] 100%  10000/10000 entries  1.2k/s  in 0:08")
    assert console.render("recounted", 0, 7, 0.0, unit="domains") == (
        "recounted [--------------------------------]   0%  0/7 domains  0.0/s  eta -:--")
    wide = console.render("exported", 1, 4, 1.0, width=200)
    assert wide.count("-") + wide.count("#") == console.MAX_BAR
    assert len(console.render("exported", 1, 4, 1.0, width=30)) == 29  # never wraps
    assert console.render("x", 1, 2, 7200.0).endswith("eta 2:00:00")
    assert console.render("x", 7, 7, 1.0).endswith("100%  7/7 entries  7.0/s  eta 0:00")


def test_progress_line_without_a_total():
    assert console.render("read", 123456, None, 2.5) == "read 123456 entries  49k/s"
    assert console.render("read", 12, None, 4.0, finished=True) == (
        "read 12 entries  3.0/s  in 0:04")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_redraws_in_place_at_most_ten_times_a_second():
    now = [0.0]
    stream = _Terminal()
    with console.Progress("imported", total=3, stream=stream, clock=lambda: now[0]) as bar:
        for _ in bar.iterate(range(3)):
            now[0] += 0.05
    drawn = stream.getvalue().split("\r")[1:]
    assert len(drawn) == 3  # at 0 (first), 0.10 s, and the final line
    assert drawn[-1] == ("imported [###################################] 100%  3/3 entries  "
                         "20/s  in 0:00\x1b[K\n")


def test_progress_is_silent_off_a_terminal_and_erased_on_failure():
    quiet = io.StringIO()
    with console.Progress("exported", stream=quiet) as bar:
        bar.advance(5)
    assert quiet.getvalue() == "" and bar.count == 5
    stream = _Terminal()
    try:
        with console.Progress("exported", stream=stream) as bar:
            bar.advance()
            raise errors.DirectoryUnavailable()
    except errors.DirectoryUnavailable:
        pass
    assert stream.getvalue().endswith("\r\x1b[K")  # the error line will stand alone
