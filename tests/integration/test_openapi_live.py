"""The API description against a real `serve`: the documentation page rendered by headless
Chromium lists every path of /api/openapi.json, and schemathesis drives the read-only
operations from the document (a global admin's session, bounded in time): no server error,
no reply that breaks the document."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iredapi_ldap.openapi import counts
from iredapi_ldap.sessions import COOKIE_NAME

from .. import helpers, servers

pytestmark = pytest.mark.slapd


@pytest.fixture(scope="module")
def live(slapd, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openapi-live")
    with servers.serving(slapd, tmp, workers=2) as base:
        yield base, tmp


def _document(base):
    status, doc = servers.call(base, "GET", "/api/openapi.json")
    assert status == 200
    return doc


def _chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("chromium not found: install Debian's chromium (make test does)")
    return path


def _headless(*args, timeout=90):
    return subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--no-first-run",
                           "--virtual-time-budget=10000", *args],
                          capture_output=True, text=True, timeout=timeout, check=True).stdout


def test_docs_page_in_chromium_lists_every_endpoint(live):
    base, tmp = live
    doc = _document(base)
    dom = _headless("--dump-dom", f"{base}/api/docs")
    missing = [path for path in doc["paths"] if f'data-path="{path}"' not in dom]
    assert not missing, missing
    operations = dom.count('class="operation"')
    assert operations == counts(doc)["operations"]
    assert "Cannot load" not in dom
    screenshot = tmp / "api-docs.png"
    _headless(f"--screenshot={screenshot}", "--window-size=1280,2400", f"{base}/api/docs")
    assert screenshot.stat().st_size > 10_000
    print(f"\n{len(doc['paths'])} paths, {operations} operations listed; "
          f"screenshot: {screenshot}")


def test_schemathesis_read_only_operations(live, accounts):
    """GET (and HEAD) of every path, from the document: positive and negative cases,
    bounded by examples per operation and a time budget."""
    base, tmp = live
    cookie = servers.login(base, accounts.admin_mail, accounts.admin_password)
    statuses = _schemathesis(f"{base}/api/openapi.json", base, cookie,
                             tmp / "schemathesis.ndjson", ("GET", "HEAD"), seconds=60)
    print(f"responses by status: {dict(sorted(statuses.items()))}")
    assert not any(status >= 500 for status in statuses)
    assert sum(statuses.values()) > 500, statuses  # it ran


def _schemathesis(location, base, cookie, report, methods, seconds, options=()):
    """Run schemathesis on the document at `location` against `base` with the session
    `cookie`, for the given methods and at most `seconds`; the responses by status, once
    every check held (`_passed`)."""
    includes = [arg for method in methods for arg in ("--include-method", method)]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", location,
         "--url", base, "-H", f"Cookie: {COOKIE_NAME}={cookie}", *includes, *options,
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--seed", "1",
         "--max-time", str(seconds), "--workers", "2", "--no-shrink",
         "--request-timeout", "20", "--report", "ndjson", "--report-ndjson-path", str(report)],
        capture_output=True, text=True, timeout=seconds * 3 + 60)
    print(result.stdout[-3000:])
    _passed(result, report)
    return _statuses(report)


def _passed(result, report):
    """Every check of the run held. A run whose checks all held may still end non-zero on
    an error of schemathesis itself (seen: a SystemError inside its data generation, one
    run in several, under load); that is printed, not a failure of the API."""
    failures = _failures(report)
    assert not failures, failures[:20]
    if result.returncode != 0:
        assert "Failures:" not in result.stdout, result.stdout[-6000:]
        print("schemathesis ended with errors of its own:\n" + result.stdout[-3000:]
              + result.stderr[-2000:])


def _failures(report):
    """The failed checks in a schemathesis ndjson report: (title, message) of each."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            info = node.get("failure_info")
            if isinstance(info, dict):
                failure = info.get("failure", {})
                found.append((failure.get("title"), str(failure.get("message"))[:300]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    for line in report.read_text().splitlines():
        walk(json.loads(line))
    return found


def _statuses(report):
    """Responses by status in a schemathesis ndjson report."""
    statuses: dict[int, int] = {}
    for line in report.read_text().splitlines():
        for recorded in _responses(json.loads(line)):
            statuses[recorded] = statuses.get(recorded, 0) + 1
    return statuses


def _responses(event):
    """The statuses of the responses an ndjson event records (none for most events)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("status_code"), int) and "elapsed" in node:
                found.append(node["status_code"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(event)
    return found


@pytest.fixture(scope="module")
def private_live(tmp_path_factory):
    """A `serve` on a slapd of its own: the write run below creates, changes and deletes
    whatever the document lets it, which no other test may see."""
    tmp = tmp_path_factory.mktemp("openapi-writes")
    with helpers.running_slapd() as server, servers.serving(server, tmp, workers=2) as base:
        yield server, base, tmp


# Accounts the write run starts from, made through the API: the document's path parameters
# get them as examples, so the run reaches existing accounts and not only 404s.
_SEEDS = (
    ("POST", "/api/domain/prop.test", {"name": "Prop", "quota": "1024"}),
    ("POST", "/api/domain/other.test", {"name": "Other"}),
    ("POST", "/api/user/u1@prop.test", {"name": "U1", "password": helpers.PASSWORD}),
    ("POST", "/api/user/u2@prop.test", {"password": helpers.PASSWORD}),
    ("POST", "/api/alias/a1@prop.test", {"accessPolicy": "public"}),
    ("POST", "/api/maillist/l1@prop.test", {"members": "u1@prop.test"}),
    ("POST", "/api/admin/sa@admins.example", {"password": helpers.PASSWORD}),
)
_EXAMPLES = {"domain": ["prop.test", "other.test"], "name": ["prop.test", "u1@prop.test"],
             "mail": ["u1@prop.test", "u2@prop.test", "a1@prop.test", "l1@prop.test",
                      "sa@admins.example"],
             "new_mail": ["u3@prop.test"], "target": ["global", "prop.test", "u2@prop.test"],
             "days": ["7"]}


def _with_examples(doc):
    """The document with examples on its path parameters (the test's accounts)."""
    for item in doc["paths"].values():
        for parameter in item.get("parameters", ()):
            examples = _EXAMPLES.get(parameter["name"])
            if examples and "enum" not in parameter["schema"]:
                parameter["examples"] = {f"e{i}": {"value": value}
                                         for i, value in enumerate(examples)}
    return doc


def test_schemathesis_writes(private_live):
    """POST, PUT and DELETE of every path (but login and logout, which would end the run's
    session) as a global admin, on accounts that exist and ones that do not: no server
    error, no reply that breaks the document."""
    server, base, tmp = private_live
    cookie = servers.login(base, server.accounts.admin_mail, server.accounts.admin_password)
    for method, path, data in _SEEDS:
        status, body = servers.call(base, method, path, data, cookie=cookie)
        assert status == 200, (path, body)
    doc = tmp / "openapi.json"
    doc.write_text(json.dumps(_with_examples(_document(base))))
    statuses = _schemathesis(str(doc), base, cookie, tmp / "schemathesis-writes.ndjson",
                             ("POST", "PUT", "DELETE"), seconds=90,
                             options=("--exclude-path", "/api/login",
                                      "--exclude-path", "/api/logout"))
    print(f"write responses by status: {dict(sorted(statuses.items()))}")
    assert not any(status >= 500 for status in statuses)
    assert statuses.get(200, 0) > 50, statuses     # it reached real accounts, not only 4xx
