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

from iredapi_ldap.policy.tables import DATABASES

from .child_server import ChildServer

USER = "iredapi"


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
        loads = {"amavisd": ("amavisd.mysql", "default_spam_policy.sql"),
                 "iredapd": ("iredapd.mysql", "enable_global_greylisting.sql",
                             "greylisting_whitelist_domains.sql", "wblist_rdns.sql"),
                 "iredadmin": ("iredadmin.mysql", "used_quota.mysql",
                               "imap_share_folder.mysql", "last_login.mysql")}
        grants = {"amavisd": "SELECT, INSERT, UPDATE, DELETE", "iredapd": "ALL PRIVILEGES",
                  "iredadmin": "ALL PRIVILEGES"}
        names = {name: f"{prefix}_{name}" for name in loads}
        password = secrets.token_hex(12)
        for name, db in names.items():
            self.root_sql(f"DROP DATABASE IF EXISTS {db}; DROP USER IF EXISTS "
                          f"'{db}'@'127.0.0.1'; CREATE DATABASE {db} CHARACTER SET utf8mb4;"
                          f"CREATE USER '{db}'@'127.0.0.1' IDENTIFIED BY '{password}';"
                          f"GRANT {grants[name]} ON {db}.* TO '{db}'@'127.0.0.1';")
            for file in loads[name]:
                with open(Path(reference_dir) / file, "rb") as sql:
                    subprocess.run([self._binary("mariadb"), f"--socket={self.socket}",
                                    "-uroot", db], stdin=sql, check=True,
                                   capture_output=True, timeout=120)
        try:
            yield {name: (f"mysql+pymysql://{db}:{password}@127.0.0.1:{self.port}/{db}"
                          "?charset=utf8mb4") for name, db in names.items()}
        finally:
            self.root_sql("".join(f"DROP DATABASE IF EXISTS {db}; DROP USER IF EXISTS "
                                  f"'{db}'@'127.0.0.1';" for db in names.values()))

    def url(self, database):
        return (f"mysql+pymysql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"
                "?charset=utf8mb4")

