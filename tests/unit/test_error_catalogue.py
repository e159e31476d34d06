"""The catalogue of error codes (`errors.Code`): README's table matches it, every raise uses it,
and the exception classes answer the codes and statuses they always have."""

import ast
import re
from pathlib import Path

import pytest

from iredapi_ldap import errors
from iredapi_ldap.errors import ApiError, BadRequest, Code

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {name for name, obj in vars(errors).items()
                 if isinstance(obj, type) and issubclass(obj, ApiError)}


def readme_table():
    """{code: (status, meaning)} from README's `| `_msg` | HTTP | meaning |` table."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("| `_msg` | HTTP | meaning |") + 2
    rows = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        match = re.fullmatch(r"\| `([A-Z_]+)` \| (\d{3}) \| (.+) \|", line)
        assert match, f"README error table: not one code per row: {line}"
        code, status, meaning = match.groups()
        assert code not in rows, f"README error table: {code} twice"
        rows[code] = (int(status), meaning)
    return rows


def test_readme_table_is_the_catalogue():
    table = readme_table()
    catalogue = {code.name: (code.status, code.meaning) for code in Code}
    assert sorted(set(catalogue) - set(table)) == [], "codes missing from README"
    assert sorted(set(table) - set(catalogue)) == [], "README codes not in errors.Code"
    assert table == catalogue


def _calls_and_classes():
    for path in sorted((ROOT / "iredapi_ldap").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            yield path, node


def _name(node):
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)


def test_no_error_is_raised_with_a_free_string_code():
    free = []
    for path, node in _calls_and_classes():
        if isinstance(node, ast.Call) and _name(node.func) in ERROR_CLASSES:
            code = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "code"), None)
            # `Code.X`, or a variable (ApiError refuses what is not a Code at run time)
            if code is not None and not isinstance(code, ast.Name) and not (
                    isinstance(code, ast.Attribute) and _name(code.value) == "Code"):
                free.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert free == [], "error codes not taken from errors.Code"


def test_error_classes_live_in_errors_py():
    outside = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, node in _calls_and_classes()
               if isinstance(node, ast.ClassDef) and path.name != "errors.py"
               and any(_name(base) in ERROR_CLASSES for base in node.bases)]
    assert outside == []


def test_a_code_outside_the_catalogue_is_refused():
    for wrong in ("MISSING_PARAMETER", ["PW_EMPTY"], [Code.PW_EMPTY, "PW_NON_ASCII"], 400):
        with pytest.raises(TypeError):
            BadRequest(wrong)


@pytest.mark.parametrize(("cls", "code", "status"), [
    (errors.ApiError, "INTERNAL_ERROR", 500),
    (errors.BadRequest, "INVALID_PARAMETER", 400),
    (errors.Unauthenticated, "LOGIN_REQUIRED", 401),
    (errors.PermissionDenied, "PERMISSION_DENIED", 403),
    (errors.NotFound, "NOT_FOUND", 404),
    (errors.MethodNotAllowed, "METHOD_NOT_ALLOWED", 405),
    (errors.Conflict, "ALREADY_EXISTS", 409),
    (errors.PayloadTooLarge, "REQUEST_TOO_LARGE", 413),
    (errors.LimitExceeded, "EXCEEDED_LIMIT", 422),
    (errors.TooManyRequests, "TOO_MANY_LOGIN_ATTEMPTS", 429),
    (errors.ServiceUnavailable, "SERVICE_UNAVAILABLE", 503),
    (errors.DirectoryUnavailable, "DIRECTORY_UNAVAILABLE", 503),
    (errors.EntryNotFound, "NO_SUCH_OBJECT", 404),
    (errors.EntryExists, "ALREADY_EXISTS", 409),
    (errors.ConcurrentUpdate, "CONCURRENT_UPDATE", 409),
    (errors.EntryHasChildren, "ENTRY_HAS_CHILDREN", 409),
    (errors.DirectoryRejected, "INVALID_VALUE", 400),
    (errors.DirectoryError, "DIRECTORY_ERROR", 500),
    (errors.DatabaseUnavailable, "DATABASE_UNAVAILABLE", 503),
    (errors.DatabaseError, "DATABASE_ERROR", 500),
])
def test_class_defaults_keep_their_code_and_status(cls, code, status):
    exc = cls(detail="why")
    assert (exc.code, exc.status, exc.detail) == (code, status, "why")


def test_a_named_code_sets_the_message_and_status():
    exc = errors.NotFound(Code.NO_SUCH_ACCOUNT, detail="no user a@b.c")
    assert (exc.code, exc.status, str(exc)) == ("NO_SUCH_ACCOUNT", 404,
                                                "NO_SUCH_ACCOUNT: no user a@b.c")


def test_several_codes_are_comma_joined():
    exc = BadRequest([Code.PW_NO_LETTER, Code.PW_NO_UPPERCASE])
    assert (exc.code, exc.status) == ("PW_NO_LETTER,PW_NO_UPPERCASE", 400)
