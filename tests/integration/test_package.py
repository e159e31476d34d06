"""The package as README's "Deployment" installs it: an sdist of the checkout, the wheel
built from that sdist, installed with its dependencies into a fresh virtual environment of
Debian's python3 that sees Debian's python3-ldap (so nothing is compiled), and `iredapi-ldap
dev` run from there, away from the checkout, answering over HTTP."""

import os
import queue
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from .. import helpers, servers

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-venv and python3-ldap
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "dist", "build", "*.egg-info", "var",
                                    "__pycache__", ".*_cache")


def _run(command, cwd, timeout, env=None):
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
    return run.stdout


def _outside_environment(**more):
    """The environment of a program installed elsewhere: nothing points at the checkout."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, **more}


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    """(sdist, wheel): the sdist of a copy of the checkout, and the wheel pip builds from
    that sdist alone (so the sdist holds all the wheel needs)."""
    where = tmp_path_factory.mktemp("dists")
    source = where / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    out = where / "dist"
    out.mkdir()
    # The PEP 517 hook `python -m build` calls first, with this environment's setuptools.
    _run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
          "build_meta.build_sdist(sys.argv[1])", str(out)], cwd=source, timeout=300,
         env=_outside_environment())
    sdist, = out.glob("iredapi[-_]ldap-*.tar.gz")  # setuptools < 69: a hyphen
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
          "--wheel-dir", str(out), str(sdist)], cwd=where, timeout=600,
         env=_outside_environment())
    wheel, = out.glob("iredapi_ldap-*-py3-none-any.whl")
    return sdist, wheel


@pytest.fixture(scope="session")
def installed(dists, tmp_path_factory):
    """A virtual environment as README's "Deployment" makes it, the wheel installed."""
    assert Path(SYSTEM_PYTHON).exists(), "Debian's python3 is missing"
    venv = tmp_path_factory.mktemp("opt") / "iredapi-ldap"
    _run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)],
         cwd=venv.parent, timeout=300, env=_outside_environment())
    # --only-binary: no dependency may need a compiler (python-ldap is Debian's).
    _run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check",
          "--only-binary=:all:", str(dists[1])], cwd=venv.parent, timeout=900,
         env=_outside_environment())
    return venv


def test_the_distributions_hold_what_the_program_needs(dists):
    sdist, wheel = dists
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("iredapi_ldap/gunicorn_conf.py", "iredapi_ldap/devslapd/fixtures/base.ldif",
                 "iredapi_ldap/devslapd/schema/20-iredmail.ldif",
                 "iredapi_ldap/devslapd/schema/10-amavisd.ldif"):
        assert name in names, name
    assert any(name.endswith(".dist-info/licenses/LICENSE") or
               name.endswith(".dist-info/LICENSE") for name in names)
    metadata = next(zipfile.ZipFile(wheel).read(name).decode() for name in names
                    if name.endswith(".dist-info/METADATA"))
    assert "License-File: LICENSE" in metadata
    top = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        members = set(archive.getnames())
    for name in ("LICENSE", "README.md", "setup.cfg", "pyproject.toml",
                 "deploy/systemd/iredapi-ldap.service", "deploy/nginx/iredapi-ldap.conf",
                 "deploy/nginx/iredapi-ldap.tmpl"):
        assert f"{top}/{name}" in members, name


def test_the_installed_program_is_its_own(installed, tmp_path):
    python = str(installed / "bin" / "python")
    where = _run([python, "-c", "import iredapi_ldap, ldap; "
                  "print(iredapi_ldap.__file__); print(ldap.__file__)"],
                 cwd=tmp_path, timeout=60, env=_outside_environment()).split()
    assert where[0].startswith(str(installed))  # not the checkout
    assert where[1].startswith("/usr/lib/python3/dist-packages/")  # Debian's python3-ldap
    # gunicorn started by hand finds the settings in the installed package, and loads the
    # app (a directory that is down is no error at start).
    settings = {"IREDAPI_ENABLE_RESTFUL_API": "true", "IREDAPI_LDAP_URI": "ldap://127.0.0.1:9",
                "IREDAPI_LDAP_BIND_PASSWORD": "x", "IREDAPI_DATA_DIR": str(tmp_path / "data")}
    config = _run([str(installed / "bin" / "gunicorn"), "-c",
                   "python:iredapi_ldap.gunicorn_conf", "--print-config"],
                  cwd=tmp_path, timeout=60, env=_outside_environment(**settings))
    assert "iredapi_ldap.workers.ExclusiveAcceptWorker" in config
    assert "iredapi_ldap.app:get_app()" in config


def _lines(stream, into):
    for line in stream:
        into.put(line)


def _printed(lines, label, seconds=120):
    """The value of the line `  label: value` that `dev` prints once it is ready."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"dev printed no {label!r} line") from None
        if line.strip().startswith(f"{label}:"):
            return line.split(":", 1)[1].strip()


def test_dev_runs_from_the_installed_package(installed, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = helpers.free_port()
    proc = subprocess.Popen([str(installed / "bin" / "iredapi-ldap"), "dev", "--bind",
                             f"127.0.0.1:{port}", "--workers", "1"],
                            cwd=tmp_path, env=_outside_environment(TMPDIR=str(temp)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        admin = _printed(lines, "admin")
        password = _printed(lines, "password")
        servers._wait_listening(proc, port, os.devnull, seconds=60)
        base = f"http://127.0.0.1:{port}"
        cookie = servers.login(base, admin, password)
        for path in ("/api/domains", "/iredadmin/api/domains"):
            status, body = servers.call(base, "GET", path, {"name_only": "yes"}, cookie=cookie)
            assert status == 200 and "example.com" in body["_data"], path
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert list(temp.iterdir()) == []  # slapd and the API's data are gone
