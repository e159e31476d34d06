"""The `iredapi-ldap` command."""

import argparse
import dataclasses
import datetime
import os
import shutil
import sys
import tempfile

import yaml

from . import __version__, backup_cli, console, health_cli, repl_cli
from .config import Settings, ensure_secret_key, load_settings, several_hosts_warnings
from .server import DEFAULT_BIND, DEFAULT_TIMEOUT, ApiServer, control_socket, metrics_directory


def build_parser():
    parser = console.ArgumentParser(
        prog=console.PROG,
        description="The iRedAdmin-Pro RESTful API for iRedMail servers whose accounts live "
                    "in OpenLDAP.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="what to do (COMMAND --help tells more)")

    serve = commands.add_parser(
        "serve", help="run the API under gunicorn",
        description="Run the API under gunicorn with the settings of --config (YAML) and "
                    "IREDAPI_<KEY> environment variables.")
    console.config_option(serve)
    _server_options(serve)
    serve.set_defaults(run=run_serve, serves=True)

    dev = commands.add_parser(
        "dev", help="throwaway slapd with seeded data, and the API on it",
        description="Start a throwaway slapd laid out as an iRedMail server, seed a first "
                    "domain and a global admin, and run the API on it until Ctrl-C.")
    _server_options(dev, workers_default=2)
    dev.set_defaults(run=run_dev, serves=True)

    _maintenance_commands(commands)
    return parser


def _maintenance_commands(commands):
    purge = commands.add_parser(
        "purge-mailboxes", help="remove kept mailboxes whose purge date has passed",
        description="Remove the mailboxes of deleted users whose keep_mailbox_days have "
                    "passed (iRedAdmin's deleted_mailboxes table), then their rows. Never a "
                    "path outside STORAGE_BASE_DIRECTORY, never a mailbox a live account "
                    "uses.")
    console.config_option(purge)
    purge.add_argument("--dry-run", action="store_true",
                       help="only list what would be removed")
    purge.set_defaults(run=run_purge)

    backup_cli.add_commands(commands)
    health_cli.add_commands(commands)
    repl_cli.add_commands(commands)

    db = commands.add_parser("db", help="the SQL databases of Amavisd, iRedAPD and iRedAdmin",
                             description="Manage the SQL databases of Amavisd, iRedAPD and "
                                         "iRedAdmin that the API uses.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND",
                                    help="what to do with them")
    init = db_commands.add_parser(
        "init", help="create the missing policy tables",
        description="Create the tables the API uses (Amavisd policy/users, iRedAPD throttle "
                    "and greylisting, iRedAdmin deleted_mailboxes) where they are missing, in "
                    "the databases of AMAVISD_DB_URL, IREDAPD_DB_URL and IREDADMIN_DB_URL. "
                    "Existing tables are left as they are.")
    console.config_option(init)
    init.set_defaults(run=run_db_init)


def _server_options(parser, workers_default=None):
    parser.add_argument("--bind", metavar="HOST:PORT", default=DEFAULT_BIND,
                        help=f"address to listen on (default: {DEFAULT_BIND})")
    parser.add_argument("--workers", type=_positive, metavar="N", default=workers_default,
                        help="worker processes (default: "
                             f"{workers_default or '2 x CPU cores + 1'})")
    parser.add_argument("--timeout", type=_positive, metavar="S", default=DEFAULT_TIMEOUT,
                        help=f"worker timeout in seconds (default: {DEFAULT_TIMEOUT})")


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _server_args(args, settings):
    return {"bind": args.bind, "workers": args.workers, "timeout": args.timeout,
            **control_socket(settings.data_dir)}


def run_serve(args):
    if args.config:
        os.environ["IREDAPI_CONFIG"] = os.path.abspath(args.config)
    settings = load_settings()
    for warning in several_hosts_warnings(settings):
        print(f"{console.PROG}: warning: {warning}", file=sys.stderr, flush=True)
    metrics_directory(settings.data_dir)  # before anything is counted
    ensure_secret_key(settings)  # once, before the workers fork, so they share it
    from .policy.store import prepare_embedded_databases
    prepare_embedded_databases(settings)
    from .app import get_app
    ApiServer(get_app, _server_args(args, settings)).run()


def run_purge(args):
    from .policy.store import SqlPolicyStore, prepare_embedded_databases
    from .services.purge import purge_mailboxes
    from .services.repository import Repository
    settings = load_settings(args.config)
    prepare_embedded_databases(settings)
    store = SqlPolicyStore.from_settings(settings)
    today = datetime.date.today()
    showing = sys.stderr.isatty()
    total = len(store.due_mailboxes(today)) if showing else None
    with console.Progress("purged", "mailboxes", total=total, enabled=showing) as progress:
        report = purge_mailboxes(store, Repository.from_settings(settings),
                                 settings.storage_base_directory, dry_run=args.dry_run,
                                 today=today, progress=progress.say)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(report.removed)} mailbox(es), skipped {len(report.skipped)}")


def run_db_init(args):
    from .policy.store import SqlPolicyStore
    settings = load_settings(args.config)
    created = SqlPolicyStore.from_settings(settings).create_missing_tables()
    for database, tables in created.items():
        made = ", ".join(tables) if tables else "nothing to create"
        print(f"{database} ({_safe_url(settings.sql_url(database))}): {made}")


def _safe_url(url):
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


DEV_SETTINGS_FILE = "settings.yaml"
SQL_DATABASES = ("amavisd", "iredapd", "iredadmin")


def run_dev(args):
    from .app import configure_logging, create_app
    from .devslapd import IRedMailSlapd

    slapd = IRedMailSlapd()
    slapd.start()
    data_dir = tempfile.mkdtemp(prefix="iredapi-ldap-dev-")  # policy SQLite, session key
    owner = os.getpid()
    try:
        accounts = slapd.seed()
        settings = load_settings(
            environ={}, enable_restful_api=True, ldap_uri=(slapd.ldap_uri,),
            ldap_basedn=accounts.domains_dn, ldap_admin_basedn=accounts.admins_dn,
            ldap_bind_dn=accounts.vmailadmin_dn,
            ldap_bind_password=accounts.vmailadmin_password,
            data_dir=data_dir)
        path = write_settings_file(settings, os.path.join(data_dir, DEV_SETTINGS_FILE))
        print(f"\n  iredapi-ldap dev: http://{args.bind}/api/\n"
              f"  slapd:    {slapd.ldap_uri} (base {accounts.suffix})\n"
              f"  admin:    {accounts.admin_mail}\n"
              f"  password: {accounts.admin_password}\n"
              f"  settings: {path}\n"
              f"            (e.g. iredapi-ldap export --all --config {path})\n"
              f"  Ctrl-C stops the API and removes slapd and all the data.\n", flush=True)
        configure_logging()
        metrics_directory(data_dir)
        ApiServer(lambda: create_app(settings), _server_args(args, settings)).run()
    finally:
        # gunicorn's workers are forks that unwind through here too when they exit.
        if os.getpid() == owner:
            slapd.stop()
            shutil.rmtree(data_dir, ignore_errors=True)


def write_settings_file(settings, path):
    """Write `settings` as a YAML file that `--config` reads back to the same settings: every
    key that differs from its default, the bind password, the session key (the one in
    DATA_DIR, made now if need be) and the SQL URLs. Mode 0600: it holds secrets."""
    defaults = Settings()
    values = {}
    for name in (field.name for field in dataclasses.fields(Settings)):
        value = getattr(settings, name)
        if value != getattr(defaults, name) or name == "ldap_bind_password":
            values[name.upper()] = list(value) if isinstance(value, tuple) else value
    values["SECRET_KEY"] = ensure_secret_key(settings)
    for database in SQL_DATABASES:
        values[f"{database.upper()}_DB_URL"] = settings.sql_url(database)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# Settings of `iredapi-ldap dev`, for --config of serve, export, import "
                     "and doctor.\n")
        yaml.safe_dump(values, handle, sort_keys=False, allow_unicode=True)
    return path


def main(argv=None):
    """Run the command of `argv` (default: sys.argv); its exit status (console.run: 1 for
    failures, 2 for usage and configuration mistakes, each one line on stderr)."""
    parser = build_parser()
    return console.run(lambda: parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
