"""A throwaway PostgreSQL server for the policy-store tests (Debian's postgresql).

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` account the
Debian package creates, in a directory of its own. No fsync: a test server, thrown away
after the run.
"""

import contextlib
import glob
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from iredapi_ldap.policy.tables import DATABASES

from .child_server import ChildServer

SUPERUSER = "postgres"


def _binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda path: int(Path(path).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL not found: install Debian's postgresql (make test does)")
    return Path(found[-1]).parent


class PostgreSQL(ChildServer):
    stop_signal = signal.SIGINT  # "fast shutdown": ends open sessions (SIGTERM waits for them)

    def __init__(self, port):
        self.port = port
        self.password = secrets.token_hex(12)
        self.base = Path(tempfile.mkdtemp(prefix="iredapi-postgresql-"))
        self._bin = _binaries()
        # subprocess arguments that run the server's commands as its owner
        self._owner = ({"user": SUPERUSER, "group": SUPERUSER, "extra_groups": []}
                       if os.geteuid() == 0 else {})

    def start(self):
        password_file = self.base / "password"
        password_file.write_text(self.password)
        if self._owner:
            for path in (self.base, password_file):
                shutil.chown(path, user=SUPERUSER)
        subprocess.run([self._bin / "initdb", "-D", self.base / "data", "-U", SUPERUSER,
                        f"--pwfile={password_file}", "--auth=scram-sha-256", "-E", "UTF8",
                        "--locale=C.UTF-8", "--no-sync"],
                       check=True, capture_output=True, timeout=120, **self._owner)
        self._launch()

    def _launch(self):
        self._proc = subprocess.Popen(
            [self._bin / "postgres", "-D", self.base / "data", "-p", str(self.port),
             "-k", self.base,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "server.log", "a"),
            **self._owner)
        deadline = time.monotonic() + 60
        while True:
            try:
                self._connect().close()
                return
            except psycopg.OperationalError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.base / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"postgres did not start:\n{log}") from None
                time.sleep(0.2)

    def _connect(self, database="postgres"):
        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                               password=self.password, dbname=database, autocommit=True,
                               connect_timeout=5)

    @contextlib.contextmanager
    def empty_databases(self, prefix):
        """{'amavisd': url, ...} of empty databases `<prefix>_amavisd`, ...

        Created on first use and emptied afterwards, since creating and dropping a
        database costs a checkpoint each (about 0.3 s).
        """
        names = {name: f"{prefix}_{name}" for name in DATABASES}
        with self._connect() as conn:
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for db in names.values():
                if db not in existing:
                    conn.execute(f"CREATE DATABASE {db}")
            # Connections an earlier test's store left open would hold the old tables.
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
                         [list(names.values())])
        for db in set(names.values()) & existing:
            with self._connect(db) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        yield {name: self.url(db) for name, db in names.items()}

    def url(self, database):
        return (f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/"
                f"{database}")

    def remove(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
