"""`iredapi-ldap export`, `import` and `doctor`: backups and repairs from the command line,
straight against the directory with the server's settings."""

import argparse
import sys

from . import console
from . import directory as directory_module
from .config import load_settings
from .directory import Scope
from .errors import ApiError
from .layout import Layout
from .model.kinds import DOMAIN
from .model.parsing import parse_domain
from .services import counters
from .services.backup import Importer, ImportReport, each_record, ldif_chunks, load_schema, walk
from .services.repository import Repository


def add_commands(commands):
    export = commands.add_parser(
        "export", help="write domains (or everything) as LDIF",
        description="Write the domain's entries (--domain) or all domains and standalone "
                    "admins (--all) as LDIF, parents first, streaming; a progress line on a "
                    "terminal.")
    console.config_option(export)
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--domain", metavar="DOMAIN", type=_domain_name,
                       help="the domain to export, with everything below it")
    which.add_argument("--all", action="store_true",
                       help="every domain and every standalone admin")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write the LDIF to FILE (default: standard output)")
    export.set_defaults(run=run_export)

    restore = commands.add_parser(
        "import", help="restore entries from LDIF",
        description="Check every entry of FILE against the directory's schema, then (unless "
                    "--dry-run) add them parents first; recompute the counters of the domains "
                    "it touched. Nothing is written when any entry is invalid.")
    restore.add_argument("file", metavar="FILE", help="the LDIF file (of `export`)")
    console.config_option(restore)
    restore.add_argument("--dry-run", action="store_true", help="only check the entries")
    restore.add_argument("--on-conflict", choices=("skip", "replace", "fail"), default="fail",
                         help="when an entry exists already (default: fail)")
    restore.set_defaults(run=run_import)

    doctor = commands.add_parser(
        "doctor", help="finish interrupted writes, recount domain counters, report drift",
        description="Report the writes an outage interrupted (deletes and renames whose "
                    "references, policy rows or deleted_mailboxes were not finished), "
                    "domains missing one of their containers, and counters that drifted "
                    "(every domain's users, aliases, lists and used quota, recounted); "
                    "--fix finishes the writes, adds the containers and repairs the "
                    "counters. Exit status 1 when something is found and not fixed.")
    console.config_option(doctor)
    doctor.add_argument("--fix", action="store_true", help="repair what is found")
    doctor.add_argument("--grace", type=_seconds, default=600, metavar="SECONDS",
                        help="a write younger than this whose outcome is unknown may still "
                             "be running: left alone (default: 600)")
    doctor.set_defaults(run=run_doctor)


def _domain_name(text):
    try:
        return parse_domain(text)
    except ApiError:
        raise argparse.ArgumentTypeError(f"not a domain name: {text!r}") from None


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _context(args):
    settings = load_settings(args.config)
    return settings, Repository.from_settings(settings)


def run_export(args):
    main_export(load_settings(args.config), args.domain, args.output)


def main_export(settings, domain=None, output_path=None):
    """Export one domain, or (domain None) every domain and standalone admin, as LDIF."""
    directory = directory_module.from_settings(settings)
    layout = Layout.from_settings(settings)
    roots = ([layout.domain_dn(parse_domain(domain))] if domain
             else [layout.basedn, layout.admin_basedn])
    output = console.open_output(output_path) if output_path else sys.stdout
    # No progress line among LDIF written to the same terminal.
    showing = sys.stderr.isatty() and not (output is sys.stdout and sys.stdout.isatty())
    try:
        total = _count_subtrees(directory, roots) if showing else None
        with console.Progress("exported", total=total, enabled=showing) as progress:
            for root in roots:
                for chunk in ldif_chunks(walk(directory, root)):
                    output.write(chunk)
                    progress.advance()
    finally:
        if output_path:
            output.close()
    print(f"exported {progress.count} entries", file=sys.stderr)


def _count_subtrees(directory, roots):
    """How many entries lie at and below `roots` (their DNs only: a cheap search), for the
    progress bar's total."""
    return sum(1 for root in roots
               for _ in directory.search(root, "(objectClass=*)", Scope.SUB, ["1.1"]))


def run_import(args):
    total = _count_entries(args.file)  # before anything else: a file not LDIF is refused
    _, repo = _context(args)
    report = ImportReport()
    importer = Importer(repo, args.on_conflict, report)
    schema = load_schema(repo.directory)
    _each_record(args.file, "checked", total, importer.check(schema))
    for dn, problem in report.invalid:
        print(f"invalid: {dn}: {problem}", file=sys.stderr)
    if report.invalid or args.dry_run:
        verdict = "invalid" if report.invalid else "valid"
        print(f"checked {report.records} entries: {len(report.invalid)} problem(s); "
              f"{verdict}{'; nothing written' if report.invalid else ''}")
        return 1 if report.invalid else 0
    report.records = 0
    _each_record(args.file, "imported", total, importer.write)
    importer.finish()
    with console.Progress("recounted", "domains", total=len(report.domains)) as progress:
        drift = counters.doctor(repo, progress.iterate(sorted(report.domains)), fix=True)
    print(f"imported {report.records} entries: {report.added} added, {report.replaced} "
          f"replaced, {report.skipped} skipped; counters recomputed for "
          f"{len(report.domains)} domain(s) ({len(drift)} corrected)")
    return 0


def _each_record(path, what, total, handle):
    """`each_record` over the file at `path`, with a progress bar."""
    with console.Progress(what, total=total) as progress, console.open_input(path) as stream:
        def counted(dn, attrs):
            handle(dn, attrs)
            progress.advance()
        each_record(stream, counted)


def _count_entries(path):
    """How many entries the LDIF file at `path` holds; UsageError when it cannot be read, is
    not LDIF of entries, or holds none."""
    with console.Progress("read") as progress, console.open_input(path) as stream:
        try:
            each_record(stream, lambda dn, attrs: progress.advance())
        except ValueError as exc:  # and UnicodeDecodeError: not text, not LDIF
            raise console.UsageError(f"{path} is not LDIF: {' '.join(str(exc).split())}") \
                from None
    if not progress.count:
        raise console.UsageError(f"{path} holds no LDIF entries")
    return progress.count


def run_doctor(args):
    settings, repo = _context(args)
    found = _doctor_writes(settings, repo, args)
    domains = sorted(str(e.first("domainName")).lower() for e in repo.directory.search(
        repo.basedn, DOMAIN.search_filter, Scope.ONE, ["domainName"]))
    with console.Progress("checked", "domains", total=len(domains)) as progress:
        missing = counters.missing_containers(repo, progress.iterate(domains), fix=args.fix)
    for domain, container in missing:
        print(f"{domain}: no ou={container}{' (added)' if args.fix else ''}")
    with console.Progress("recounted", "domains", total=len(domains)) as progress:
        drift = counters.doctor(repo, progress.iterate(domains), fix=args.fix)
    for item in drift:
        print(f"{item.domain}: {item.attribute} is {item.stored}, counted {item.counted}"
              f"{' (fixed)' if args.fix else ''}")
    print(f"checked {len(domains)} domain(s): {len(missing)} container(s) missing, "
          f"{len(drift)} counter(s) {'fixed' if args.fix else 'drifted'}")
    return 1 if (found or missing or drift) and not args.fix else 0


def _doctor_writes(settings, repo, args):
    """Report (and with --fix, settle) the interrupted writes; returns how many remain
    to be settled."""
    from .policy.journal import Journal
    from .policy.store import SqlPolicyStore, prepare_embedded_databases
    from .services.completions import Completions
    prepare_embedded_databases(settings)
    store = SqlPolicyStore.from_settings(settings)
    journal = Journal(store.databases)
    if not args.fix:
        pending = journal.pending()
        for intent in pending:
            print(f"unfinished: {intent.kind} {intent.subject} ({intent.state}, "
                  f"{intent.age():.0f} s old)")
        return len(pending)
    report = Completions(repo, store, journal, landing=settings.ldap_timeout).settle_all(args.grace)
    for verdict, intents in (("finished", report.completed), ("dropped, never happened",
                                                              report.discarded),
                             ("left, may still be running", report.waiting)):
        for intent in intents:
            print(f"{intent.kind} {intent.subject}: {verdict}")
    return len(report.waiting)
