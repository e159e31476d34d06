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
    def __init__(self, base_dir, port):
        self.base = Path(base_dir)
        self.port = port
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
             "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=0",
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

    def url(self, database):
        return (f"mysql+pymysql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"
                "?charset=utf8mb4")

