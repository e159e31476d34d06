"""A throwaway MariaDB server for the policy-store tests (Debian's mariadb-server).

As root, mariadbd needs --user=root; mariadb-install-db gives root socket-only
authentication, so the root socket login creates a password user for TCP connections.
"""

import contextlib
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pymysql

from iredapi_ldap.policy.tables import DATABASES

from .child_server import ChildServer

USER = "iredapi"

# What iRedMail's installer loads into each database, in its order, and the grants it gives
# each database's user (amavisd may only read and write rows).
LOADS = {"amavisd": ("amavisd.mysql", "default_spam_policy.sql"),
         "iredapd": ("iredapd.mysql", "enable_global_greylisting.sql",
                     "greylisting_whitelist_domains.sql", "wblist_rdns.sql"),
         "iredadmin": ("iredadmin.mysql", "used_quota.mysql", "imap_share_folder.mysql",
                       "last_login.mysql")}
GRANTS = {"amavisd": "SELECT, INSERT, UPDATE, DELETE", "iredapd": "ALL PRIVILEGES",
          "iredadmin": "ALL PRIVILEGES"}


class MariaDB(ChildServer):
    def __init__(self, base_dir, port, durable=False):
        """`durable`: every commit is on disk before it is acknowledged, as a production
        server does (the fault tests kill it); otherwise commits are flushed once a second,
        which is faster."""
        self.base = Path(base_dir)
        self.port = port
        self.durable = durable
        self.password = secrets.token_hex(12)
        self.socket = self.base / "mysqld.sock"
        self._pristine = {}  # prefix: (password, fingerprint) of pristine_iredmail_databases

    def _binary(self, name):
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
        if path is None:
            raise RuntimeError(f"{name} not found: install Debian's mariadb-server "
                               "(make test does)")
        return path

    def start(self):
        data = self.base / "data"
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run([self._binary("mariadb-install-db"), "--no-defaults",
                        f"--datadir={data}", "--user=root", "--skip-test-db",
                        "--auth-root-authentication-method=socket"],
                       check=True, capture_output=True, timeout=120)
        self._launch()
        self.root_sql(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{self.password}';"
                      f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1';")

    def _launch(self):
        self._proc = subprocess.Popen(
            [self._binary("mariadbd"), "--no-defaults", f"--datadir={self.base / 'data'}",
             f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
             "--user=root", "--skip-name-resolve", "--skip-log-bin",
             "--innodb-buffer-pool-size=32M",
             f"--innodb-flush-log-at-trx-commit={1 if self.durable else 0}",
             f"--pid-file={self.base / 'mariadbd.pid'}",
             f"--log-error={self.base / 'error.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while subprocess.run([self._binary("mariadb"), f"--socket={self.socket}", "-uroot",
                              "-e", "SELECT 1"], capture_output=True).returncode != 0:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log = (self.base / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"mariadbd did not start:\n{log}")
            time.sleep(0.2)

    def root_sql(self, sql):
        subprocess.run([self._binary("mariadb"), f"--socket={self.socket}", "-uroot", "-e", sql],
                       check=True, capture_output=True, timeout=60)

    @contextlib.contextmanager
    def empty_databases(self, prefix):
        """{'amavisd': url, ...} of new databases `<prefix>_amavisd`, ..., dropped after
        (and before: an earlier test may have stopped the server before its drop)."""
        names = {name: f"{prefix}_{name}" for name in DATABASES}
        self.root_sql("".join(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} "
                              "CHARACTER SET utf8mb4;" for db in names.values()))
        try:
            yield {name: self.url(db) for name, db in names.items()}
        finally:
            self.root_sql("".join(f"DROP DATABASE IF EXISTS {db};" for db in names.values()))

    @contextlib.contextmanager
    def iredmail_databases(self, prefix, reference_dir):
        """{'amavisd': url, ...} of databases exactly as iRedMail's installer creates them
        on a real server: the unmodified upstream SQL files of `reference_dir`
        (shared/reference/upstream-sql), loaded in the installer's order, each database
        with its own user and the installer's grants (amavisd may only read and write
        rows). Dropped afterwards."""
        names = {name: f"{prefix}_{name}" for name in LOADS}
        password = secrets.token_hex(12)
        self._load(names, reference_dir, password)
        try:
            yield self._installer_urls(names, password)
        finally:
            self._drop(names)

    def pristine_iredmail_databases(self, prefix, reference_dir):
        """{'amavisd': url, ...} of databases as `iredmail_databases` makes them, for one
        test: loaded once, then put back for each later call to what the installer made.

        Loading the upstream files costs about 0.6 s a test (DDL), a reset a few
        milliseconds: a copy of the fresh load (`pristine_<name>`) is kept, and every table
        whose rows (CHECKSUM TABLE) or AUTO_INCREMENT differ from its copy gets the copy's
        rows back and its counter lowered. A test that changed what a reset does not
        restore (tables, columns, indexes, triggers, constraints: the fingerprint) or
        dropped a database gets a fresh load."""
        names = {name: f"{prefix}_{name}" for name in LOADS}
        copies = {name: f"pristine_{prefix}_{name}" for name in LOADS}
        known = self._pristine.get(prefix)
        with self._admin() as cursor:
            if known is None or _fingerprint(cursor, names.values()) != known[1]:
                password = known[0] if known else secrets.token_hex(12)
                self._load(copies, reference_dir, secrets.token_hex(12))
                self._load(names, reference_dir, password)
                known = self._pristine[prefix] = (password,
                                                  _fingerprint(cursor, names.values()))
                if known[1] != _fingerprint(cursor, copies.values()):
                    raise RuntimeError("the copy of the upstream databases differs")
            else:
                _restore_rows(cursor, names, copies)
        return self._installer_urls(names, known[0])

    def _load(self, names, reference_dir, password):
        """(Re)create databases `names` ({'amavisd': database, ...}) from the upstream files,
        with their users and grants, in one run of the client."""
        script = []
        for name, db in names.items():
            script.append(f"DROP DATABASE IF EXISTS {db}; DROP USER IF EXISTS "
                          f"'{db}'@'127.0.0.1'; CREATE DATABASE {db} CHARACTER SET utf8mb4;"
                          f"CREATE USER '{db}'@'127.0.0.1' IDENTIFIED BY '{password}';"
                          f"GRANT {GRANTS[name]} ON {db}.* TO '{db}'@'127.0.0.1';"
                          f"USE {db};\n")
            script.extend((Path(reference_dir) / file).read_text() + "\n"
                          for file in LOADS[name])
        subprocess.run([self._binary("mariadb"), f"--socket={self.socket}", "-uroot"],
                       input="".join(script).encode(), check=True, capture_output=True,
                       timeout=120)

    def _drop(self, names):
        self.root_sql("".join(f"DROP DATABASE IF EXISTS {db}; DROP USER IF EXISTS "
                              f"'{db}'@'127.0.0.1';" for db in names.values()))

    def _installer_urls(self, names, password):
        return {name: (f"mysql+pymysql://{db}:{password}@127.0.0.1:{self.port}/{db}"
                       "?charset=utf8mb4") for name, db in names.items()}

    @contextlib.contextmanager
    def _admin(self):
        """A cursor of the suite's user, which may do anything (autocommit)."""
        conn = pymysql.connect(host="127.0.0.1", port=self.port, user=USER,
                               password=self.password, autocommit=True)
        try:
            with conn.cursor() as cursor:
                yield cursor
        finally:
            conn.close()

    def url(self, database):
        return (f"mysql+pymysql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"
                "?charset=utf8mb4")


# What a row reset cannot put back, per table: its columns, indexes, triggers, constraints,
# engine and collation. Database names are left out, so a copy compares equal.
_SCHEMA_QUERIES = (
    "SELECT table_name, column_name, ordinal_position, column_type, is_nullable, "
    "column_default, extra, collation_name FROM information_schema.columns",
    "SELECT table_name, index_name, seq_in_index, column_name, non_unique, sub_part "
    "FROM information_schema.statistics",
    "SELECT event_object_table, trigger_name, action_timing, event_manipulation, "
    "action_statement FROM information_schema.triggers",
    "SELECT table_name, constraint_name, constraint_type "
    "FROM information_schema.table_constraints",
    "SELECT table_name, constraint_name, referenced_table_name, update_rule, delete_rule "
    "FROM information_schema.referential_constraints",
    "SELECT table_name, table_type, engine, table_collation FROM information_schema.tables",
)
_SCHEMA_COLUMN = {"triggers": "trigger_schema", "referential_constraints": "constraint_schema"}


def _fingerprint(cursor, databases):
    """{database role: sorted schema rows} of `databases`; None when one is missing."""
    found = {}
    for db in databases:
        role = db.rsplit("_", 1)[1]
        rows = []
        for query in _SCHEMA_QUERIES:
            view = query.rsplit(".", 1)[1]
            cursor.execute(f"{query} WHERE {_SCHEMA_COLUMN.get(view, 'table_schema')} = %s",
                           (db,))
            rows.extend((view, *row) for row in cursor.fetchall())
        if not rows:
            return None
        found[role] = sorted(rows, key=repr)
    return found


def _checksums(cursor, database, tables):
    """{table: CHECKSUM TABLE} of these tables of `database`."""
    cursor.execute("CHECKSUM TABLE " + ", ".join(f"{database}.{t}" for t in tables))
    return {row[0].split(".", 1)[1]: row[1] for row in cursor.fetchall()}


def _auto_increments(cursor, database):
    """{table: its AUTO_INCREMENT counter (None without one)} of `database`'s tables."""
    cursor.execute("SELECT table_name, auto_increment FROM information_schema.tables "
                   "WHERE table_schema = %s AND table_type = 'BASE TABLE'", (database,))
    return dict(cursor.fetchall())


def _restore_rows(cursor, names, copies):
    """Give every table of `names` whose rows or AUTO_INCREMENT differ from its copy's the
    copy's rows, and lower its counter to what the copy's is."""
    for name, db in names.items():
        counters, wanted_counters = (_auto_increments(cursor, database)
                                     for database in (db, copies[name]))
        sums, wanted_sums = (_checksums(cursor, database, counters)
                             for database in (db, copies[name]))
        changed = [table for table in sorted(counters)
                   if sums[table] != wanted_sums[table]
                   or counters[table] != wanted_counters[table]]
        if not changed:
            continue
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table in changed:
            cursor.execute(f"DELETE FROM {db}.{table}")
            cursor.execute(f"INSERT INTO {db}.{table} SELECT * FROM {copies[name]}.{table}")
            if wanted_counters[table] is not None:
                cursor.execute(f"ALTER TABLE {db}.{table} AUTO_INCREMENT = "
                               f"{int(wanted_counters[table])}")
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
