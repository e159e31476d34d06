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

from .. import servers

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
    report = tmp / "schemathesis.ndjson"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/api/openapi.json",
         "--url", base, "-H", f"Cookie: {COOKIE_NAME}={cookie}",
         "--include-method", "GET", "--include-method", "HEAD",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                     "response_schema_conformance",
         "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--seed", "1",
         "--max-time", "60", "--workers", "2", "--no-shrink", "--request-timeout", "20",
         "--report", "ndjson", "--report-ndjson-path", str(report)],
        capture_output=True, text=True, timeout=240)
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    statuses: dict[int, int] = {}
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for recorded in _responses(event):
            statuses[recorded] = statuses.get(recorded, 0) + 1
    print(f"responses by status: {dict(sorted(statuses.items()))}")
    assert not any(status >= 500 for status in statuses)


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
